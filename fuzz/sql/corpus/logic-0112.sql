SELECT id, s BETWEEN 'a' AND 'b' FROM v
