SELECT count(*), count(l.id), count(r.id) FROM big_l l FULL JOIN big_r r ON l.k = r.k AND l.g = 3
