SELECT k, sum(x) FROM e GROUP BY k HAVING sum(x) > (SELECT avg(x) FROM e)
