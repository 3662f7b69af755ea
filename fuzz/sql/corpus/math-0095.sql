SELECT id FROM edge WHERE round(d, 1) > 0
