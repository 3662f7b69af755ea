SELECT id, (SELECT name FROM u WHERE u.k = t.k) FROM t
