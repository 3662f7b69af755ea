SELECT k, length(string_agg(s, '--')) FROM g GROUP BY k
