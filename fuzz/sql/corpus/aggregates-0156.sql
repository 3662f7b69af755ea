SELECT string_agg(s, ',') FROM g WHERE id IN (6, 7)
