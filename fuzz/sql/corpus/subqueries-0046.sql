SELECT k, total FROM (SELECT k, sum(v) AS total FROM t GROUP BY k) s ORDER BY total DESC NULLS LAST, k LIMIT 2
