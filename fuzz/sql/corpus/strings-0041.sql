SELECT id, substr(v, 2, 3) FROM s
