SELECT id, v LIKE '%xyz4' FROM wide
