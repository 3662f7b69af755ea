SELECT l.id, r.id FROM l FULL JOIN r ON l.k = r.k AND l.x > r.y
