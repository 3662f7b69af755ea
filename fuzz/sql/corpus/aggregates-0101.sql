SELECT k, bool_and(b), bool_or(b) FROM g GROUP BY k
