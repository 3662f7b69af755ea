SELECT id, round(d, 1) FROM m
