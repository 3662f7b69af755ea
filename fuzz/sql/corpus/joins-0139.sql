SELECT k, l.id, l.s, r.id, r.s FROM l JOIN r USING (k)
