SELECT id, i8 * 2 FROM n WHERE id IN (3, 4)
