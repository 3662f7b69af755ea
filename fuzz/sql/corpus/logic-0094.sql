SELECT id, i IN (1, 2), i IN (1, NULL), i NOT IN (1, 2), i NOT IN (1, NULL) FROM v
