SELECT k, sum(i * 2) + 1, sum(f) / count(*) FROM g GROUP BY k
