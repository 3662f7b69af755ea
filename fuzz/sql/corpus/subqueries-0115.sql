SELECT id, (SELECT max(v) FROM t) - v FROM t
