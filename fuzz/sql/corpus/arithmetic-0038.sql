SELECT id, a + i8, a * f, i32 / 4 FROM n
