SELECT a1.k, b1.k, c1.k FROM c1 RIGHT JOIN a1 ON c1.k = a1.k RIGHT JOIN b1 ON a1.k = b1.k
