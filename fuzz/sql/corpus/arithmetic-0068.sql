SELECT -(-(a)) FROM n WHERE id = 2
