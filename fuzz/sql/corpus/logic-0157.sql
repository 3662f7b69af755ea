SELECT id, greatest(s, 'b') FROM v
