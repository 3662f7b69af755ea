SELECT id, (SELECT count(x) + 1 FROM e WHERE e.k = t.k) FROM t
