SELECT id, floor(f), ceil(f) FROM m
