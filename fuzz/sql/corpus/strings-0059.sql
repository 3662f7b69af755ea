SELECT id, v || '!' FROM s
