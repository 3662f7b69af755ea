SELECT id, substr(v, 100, 2) FROM s
