SELECT id, coalesce(d, DATE '2000-01-01') FROM v
