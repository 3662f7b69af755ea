SELECT id, coalesce(i, -1), coalesce(s, 'none') FROM v
