SELECT a1.k, b1.k, c1.k FROM a1 FULL JOIN b1 ON a1.k = b1.k LEFT JOIN c1 ON b1.k = c1.k
