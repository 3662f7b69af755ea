SELECT count(*) FROM (SELECT * FROM t) AS s(a, b, c, d)
