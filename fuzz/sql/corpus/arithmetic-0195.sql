SELECT x + 0.5 FROM ext
