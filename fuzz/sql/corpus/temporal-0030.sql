SELECT id, extract(epoch FROM ts) FROM t
