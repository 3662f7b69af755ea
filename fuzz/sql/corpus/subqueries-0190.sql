SELECT k, count(*), (SELECT max(v) FROM t WHERE t.k = e.k) FROM e GROUP BY k
