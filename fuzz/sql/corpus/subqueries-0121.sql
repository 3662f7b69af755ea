SELECT id, (SELECT v FROM empty) FROM t
