SELECT id, (SELECT max(x) + t.v FROM e WHERE e.k = t.k) FROM t
