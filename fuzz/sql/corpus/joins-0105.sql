SELECT l.id, r.id FROM l LEFT JOIN r ON l.x < r.y AND r.y < 20
