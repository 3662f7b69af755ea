SELECT id FROM e WHERE x > (SELECT avg(x) FROM e e2 WHERE e2.k = e.k)
