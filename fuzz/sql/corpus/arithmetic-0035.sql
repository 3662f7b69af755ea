SELECT f * 2 + 1 FROM n
