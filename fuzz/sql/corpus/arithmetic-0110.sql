SELECT abs(x) FROM ext WHERE id = 2
