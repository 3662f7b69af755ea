#pragma once
// LIKE patterns whose only wildcard is '%' ('%special%requests%', 'forest%', '%BRASS'),
// matched by searching their literal pieces in order: no regular expression. Other
// patterns ('_', backslash escapes) and ILIKE go to Arrow's match_like.
#include <arrow/api.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::expr {

struct PercentPattern {
  bool anchored_start = false;      // the pattern does not begin with '%'
  bool anchored_end = false;        // ... and does not end with '%'
  std::vector<std::string> pieces;  // the literal text between the '%'s, in order
};

/// The pattern's pieces, or nullopt if it has '_' or '\\' (Arrow handles those).
std::optional<PercentPattern> ParsePercentPattern(std::string_view pattern);

/// Whether `s` matches (SQL LIKE, case-sensitive, bytes compared).
bool MatchesPercentPattern(const PercentPattern& p, std::string_view s);

/// LIKE over a string or large string array: TRUE/FALSE per value, NULL for NULL.
Result<std::shared_ptr<arrow::Array>> LikePercent(const PercentPattern& p,
                                                  const arrow::Array& strings);

}  // namespace sluice::expr
