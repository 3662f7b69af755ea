SELECT * FROM l JOIN r USING (k) WHERE l.id = 1 AND r.id = 1
