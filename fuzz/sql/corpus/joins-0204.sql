SELECT count(*), count(a.id) FROM (SELECT * FROM fj0 WHERE id < 150) a FULL JOIN (SELECT * FROM fj0 WHERE id < 150) b ON a.k = b.k AND a.k2 = b.k2
