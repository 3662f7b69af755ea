SELECT id, pow(f, 2), power(i, 3) FROM m
