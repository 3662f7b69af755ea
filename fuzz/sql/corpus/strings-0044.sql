SELECT id, substr(v, 3) FROM s
