SELECT count(*), count(l.id) FROM big_l l RIGHT JOIN big_r r ON l.k = r.k
