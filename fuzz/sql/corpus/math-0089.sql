SELECT id, round(d, 0), round(d, 1), round(d) FROM edge
