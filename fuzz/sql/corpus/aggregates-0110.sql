SELECT k, sum(i) FROM g GROUP BY k HAVING sum(i) IS NOT NULL AND min(id) < 8
