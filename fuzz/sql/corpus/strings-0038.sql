SELECT id, ltrim(v), rtrim(v) FROM s
