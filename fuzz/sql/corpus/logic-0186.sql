SELECT id, f + u FROM un
