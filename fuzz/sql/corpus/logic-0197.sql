SELECT id FROM un WHERE u8 <> -1 AND u8 >= -300
