SELECT x - 0 FROM ext
