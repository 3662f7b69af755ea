SELECT k, count(*) FROM e GROUP BY k
