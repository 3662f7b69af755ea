SELECT id, i = f, n < f FROM v
