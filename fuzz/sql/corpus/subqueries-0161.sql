SELECT id, (SELECT x FROM e WHERE e.k = t.k) FROM t
