SELECT 2 + 3 * 4 - 10 / 5 FROM n WHERE id = 1
