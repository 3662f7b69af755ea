SELECT id, d + 1 FROM dd
