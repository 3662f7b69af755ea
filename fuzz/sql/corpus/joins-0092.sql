SELECT l.id, r.id FROM l JOIN r ON l.s = r.s
