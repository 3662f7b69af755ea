SELECT id, abs(d) FROM m
