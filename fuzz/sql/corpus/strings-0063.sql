SELECT id, v || NULL, concat(v, NULL, '-', id) FROM s
