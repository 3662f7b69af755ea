SELECT sum(length(upper(v))) FROM wide
