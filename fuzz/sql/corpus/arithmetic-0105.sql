SELECT -x FROM ext WHERE id = 2
