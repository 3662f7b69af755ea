SELECT id, k = 1 OR k IN (SELECT k FROM u WHERE name <> 'one') FROM t
