SELECT k, first(i) FROM g WHERE k IN ('c', 'b') AND id <> 4 GROUP BY k
