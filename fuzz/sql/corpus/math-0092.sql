SELECT id, floor(d), ceil(d) FROM edge
