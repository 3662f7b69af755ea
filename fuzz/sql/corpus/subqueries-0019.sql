WITH agg AS (SELECT k, count(*) AS n FROM t GROUP BY k) SELECT agg.k, u.name, agg.n FROM agg LEFT JOIN u ON agg.k = u.k
