SELECT d + f FROM n
