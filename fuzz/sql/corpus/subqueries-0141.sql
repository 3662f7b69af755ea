SELECT id, (SELECT count(*) FROM e WHERE e.k = t.k) FROM t
