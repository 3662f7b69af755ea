SELECT id, nullif(i, 2), nullif(s, '') FROM v
