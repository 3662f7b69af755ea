SELECT k, string_agg(s, ',') FROM g WHERE id IN (1, 4, 6, 9) GROUP BY k
