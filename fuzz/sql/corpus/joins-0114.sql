SELECT a.id, b.id FROM l a JOIN l b ON a.k = b.k AND a.id < b.id
