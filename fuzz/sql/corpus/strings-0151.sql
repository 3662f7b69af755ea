SELECT id, substr(v, 2999, 5) FROM wide
