SELECT k, count(*) FILTER (WHERE i > 1) FROM g GROUP BY k
