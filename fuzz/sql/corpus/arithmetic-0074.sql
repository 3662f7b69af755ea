SELECT id, a / 0, a % 0, b % (a - a) FROM n WHERE id <= 2
