SELECT l.id, r.id FROM l JOIN r ON l.k + 1 = r.k
