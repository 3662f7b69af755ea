SELECT id, split_part(v, 'b', 1) FROM s
