SELECT l.id, r.id FROM l FULL JOIN r ON l.k = r.k WHERE l.id IS NULL OR r.id IS NULL
