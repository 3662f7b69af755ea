SELECT count(*), count(r.id) FROM big_l l LEFT JOIN big_r r ON l.k = r.k
