SELECT upper(v) FROM s WHERE id = 11
