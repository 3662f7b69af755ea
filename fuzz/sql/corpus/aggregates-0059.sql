SELECT percentile_cont(0.75) WITHIN GROUP (ORDER BY f) FROM g
