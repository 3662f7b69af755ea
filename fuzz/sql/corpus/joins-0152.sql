SELECT l.g, count(*), count(DISTINCT r.id), sum(r.k) FROM big_l l JOIN big_r r ON l.k = r.k GROUP BY l.g
