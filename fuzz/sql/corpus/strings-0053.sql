SELECT id, replace(v, 'b', 'XX') FROM s
