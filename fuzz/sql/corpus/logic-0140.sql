SELECT id, coalesce(n, 0) FROM v
