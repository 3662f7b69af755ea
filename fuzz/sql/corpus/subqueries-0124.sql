SELECT id, (SELECT k FROM u WHERE name = 'two') FROM t
