SELECT avg(u) FROM ub
