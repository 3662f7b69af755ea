SELECT any_value(s) FROM g WHERE id IN (6, 7)
