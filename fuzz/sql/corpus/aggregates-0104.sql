SELECT k, b, count(*) FROM g GROUP BY k, b
