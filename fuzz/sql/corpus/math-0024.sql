SELECT id, round(f), round(f, 1), round(f, 2) FROM m
