SELECT coalesce(NULL, NULL, 3) FROM v WHERE id = 1
