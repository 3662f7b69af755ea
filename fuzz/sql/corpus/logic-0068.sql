SELECT id, d = ts FROM v
