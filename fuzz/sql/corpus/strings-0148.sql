SELECT id, length(v) FROM wide
