SELECT round(0.0, 0), round(0.5, 0), floor(0.5), ceil(0.5) FROM edge WHERE id = 1
