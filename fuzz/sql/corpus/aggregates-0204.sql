SELECT min(u), max(u) FROM ub
