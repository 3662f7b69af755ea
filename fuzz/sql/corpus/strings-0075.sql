SELECT id, split_part(v, 'b', 2) FROM s
