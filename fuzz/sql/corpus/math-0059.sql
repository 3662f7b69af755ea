SELECT id, pow(2, f) FROM m
