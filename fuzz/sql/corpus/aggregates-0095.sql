SELECT k, stddev_samp(i), var_pop(i) FROM g GROUP BY k
