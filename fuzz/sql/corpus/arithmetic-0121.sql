SELECT x % 10, x % -10 FROM ext
