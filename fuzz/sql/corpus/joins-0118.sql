SELECT l.id, e.id FROM l LEFT JOIN e ON l.k = e.k
