SELECT k, l.id, r.id FROM l FULL JOIN r USING (k)
