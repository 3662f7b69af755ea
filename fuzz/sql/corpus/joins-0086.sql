SELECT count(*) FROM l JOIN r ON l.k = r.k WHERE l.k IS NULL
