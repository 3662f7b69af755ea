SELECT id, floor(d), ceiling(d) FROM m
