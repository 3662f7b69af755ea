SELECT id, a * 1.5 FROM n
