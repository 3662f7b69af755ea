SELECT id, upper(v) FROM s WHERE id <> 11
