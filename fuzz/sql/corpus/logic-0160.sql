SELECT id, b = true AND i > 0 OR s = 'a' FROM v
