SELECT median(d), quantile_cont(d, 0.5) FROM g
