SELECT stddev_samp(f), var_pop(f), stddev_pop(d), var_samp(d) FROM g
