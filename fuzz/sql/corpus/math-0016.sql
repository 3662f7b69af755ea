SELECT id, abs(f), sign(f) FROM m
