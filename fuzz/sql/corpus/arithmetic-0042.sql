SELECT id, i16 + i32, u8 + i32, CAST(u32 AS BIGINT) + a FROM n WHERE id NOT IN (3, 4)
