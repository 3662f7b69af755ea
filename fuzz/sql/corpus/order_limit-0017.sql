SELECT id, k FROM o ORDER BY k, id
