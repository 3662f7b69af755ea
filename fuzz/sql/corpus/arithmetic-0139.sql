SELECT id, d + d FROM n
