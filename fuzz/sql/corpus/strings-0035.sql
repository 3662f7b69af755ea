SELECT id, trim(v) FROM s
