SELECT l.id, r.id FROM l LEFT JOIN r ON l.k = r.k WHERE r.y > 10
