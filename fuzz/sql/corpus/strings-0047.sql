SELECT id, substring(v, 1, 1) FROM s
