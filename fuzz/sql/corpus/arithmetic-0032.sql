SELECT id, a % b FROM n
