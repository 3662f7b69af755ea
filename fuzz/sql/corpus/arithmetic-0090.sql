SELECT x + 1 FROM ext
