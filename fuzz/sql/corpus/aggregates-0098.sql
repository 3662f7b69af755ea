SELECT k, median(i), median(f) FROM g GROUP BY k
