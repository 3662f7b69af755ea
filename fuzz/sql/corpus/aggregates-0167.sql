SELECT k, first(s), last(s), arbitrary(s) FROM g GROUP BY k
