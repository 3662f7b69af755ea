SELECT quantile(i, 0.5) FROM g WHERE id <= 4
