SELECT id, i / NULLIF(u, 0) FROM wide
