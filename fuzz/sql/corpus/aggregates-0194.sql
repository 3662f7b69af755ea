SELECT count(*), count(DISTINCT k) FROM (SELECT k, v FROM big WHERE v % 3 = 0) s
