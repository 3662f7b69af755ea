SELECT (2 + 3) * 4.5 / 3 FROM n WHERE id = 1
