SELECT id, d % 3 FROM n
