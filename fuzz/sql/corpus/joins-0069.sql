SELECT l.id, r.id FROM l RIGHT JOIN r ON l.k = r.k AND l.x >= 30
