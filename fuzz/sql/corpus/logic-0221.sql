SELECT id, greatest(b, false), least(b, true) FROM gl
