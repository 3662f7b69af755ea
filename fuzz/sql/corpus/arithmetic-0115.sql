SELECT x FROM ext WHERE x + 0 = x
