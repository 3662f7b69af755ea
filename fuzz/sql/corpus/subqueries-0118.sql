SELECT id FROM t WHERE v > (SELECT avg(v) FROM t)
