SELECT id, a / b FROM n WHERE id <= 4
