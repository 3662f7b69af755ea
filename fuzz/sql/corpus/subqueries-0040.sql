SELECT s.k, u.name FROM (SELECT DISTINCT k FROM t) s JOIN u ON s.k = u.k
