SELECT bool_and(b), bool_or(b) FROM g
