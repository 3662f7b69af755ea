SELECT k, count(*), sum(i), max(d) FROM g GROUP BY k
