SELECT count(DISTINCT u), avg(i) FROM ub
