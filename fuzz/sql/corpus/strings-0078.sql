SELECT id, split_part(v, ' ', 3) FROM s
