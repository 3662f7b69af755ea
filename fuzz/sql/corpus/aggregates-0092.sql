SELECT k, count(DISTINCT i), min(i), max(i) FROM g GROUP BY k
