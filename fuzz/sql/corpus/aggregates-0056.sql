SELECT median(i), median(f), quantile_cont(i, 0.25) FROM g
