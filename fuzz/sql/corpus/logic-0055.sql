SELECT p = q, p <> q, p < q FROM tv
