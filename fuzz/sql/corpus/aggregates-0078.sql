SELECT median(f) FROM e
