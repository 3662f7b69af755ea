SELECT id, strftime(ts, '%H:%M') FROM old
