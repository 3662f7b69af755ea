SELECT l.id, r.id FROM l CROSS JOIN r
