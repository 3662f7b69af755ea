SELECT id, abs(i), sign(i) FROM m
