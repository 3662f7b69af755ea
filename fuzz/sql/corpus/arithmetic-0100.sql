SELECT x * 2 FROM ext
