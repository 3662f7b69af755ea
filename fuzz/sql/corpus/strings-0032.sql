SELECT id, length(v) FROM s
