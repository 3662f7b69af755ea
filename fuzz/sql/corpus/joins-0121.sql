SELECT l.id, e.id FROM l RIGHT JOIN e ON l.k = e.k
