SELECT id, CASE WHEN i > 1 THEN 'big' WHEN i < 0 THEN 'negative' ELSE 'other' END FROM v
