SELECT id, reverse(v) FROM s
