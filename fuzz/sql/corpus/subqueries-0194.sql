WITH s AS (SELECT k, sum(x) AS total FROM e GROUP BY k) SELECT k FROM s WHERE total = (SELECT max(total) FROM s)
