SELECT x - 1 FROM ext WHERE id = 2
