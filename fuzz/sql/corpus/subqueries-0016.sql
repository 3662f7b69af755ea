WITH agg AS (SELECT k, count(*) AS n, sum(v) AS total FROM t GROUP BY k) SELECT k, n, total FROM agg
