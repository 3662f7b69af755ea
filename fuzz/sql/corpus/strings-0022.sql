SELECT id, lower(v) FROM s WHERE id <> 11
