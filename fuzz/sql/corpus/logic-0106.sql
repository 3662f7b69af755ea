SELECT id FROM v WHERE i IN (id, 5, 7)
