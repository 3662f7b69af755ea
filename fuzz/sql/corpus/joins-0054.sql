SELECT l.id, r.id FROM l LEFT JOIN r ON l.k = r.k AND l.x > r.y
