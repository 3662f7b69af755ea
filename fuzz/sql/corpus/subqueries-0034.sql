SELECT s.k, s.m FROM (SELECT k, max(v) AS m FROM t GROUP BY k) s WHERE s.m > 2
