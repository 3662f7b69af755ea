SELECT id, a + b, a - b, a * b, -a FROM n
