SELECT id, d - 7 FROM dd
