SELECT id, (SELECT sum(x) FROM e WHERE e.k = t.k) FROM t
