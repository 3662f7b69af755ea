SELECT id, n = 2.5, n > i FROM v
