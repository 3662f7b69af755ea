SELECT k, count(*), sum(i), avg(f), max(d) FROM g GROUP BY k
