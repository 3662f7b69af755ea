#pragma once
// ISO 8601 dates and date-times as the JSON reader understands them. Internal to
// src/sluice/connector/json/ (the reader and schema inference must agree on what
// "looks like a date", so both call these).
//
// Accepted forms (nothing else; no surrounding spaces):
//   date       YYYY-MM-DD                              (years 0000-9999)
//   date-time  date ('T' | 't' | ' ') HH:MM[:SS[(.|,)F{1,9}]] [zone]
//   zone       'Z' | 'z' | (+|-)HH[:MM] | (+|-)HHMM      (offsets up to 23:59)
// A date alone is also a date-time (midnight). Leap seconds (:60) are rejected.
#include <arrow/type_fwd.h>

#include <cstdint>
#include <string_view>

namespace sluice::json::internal {

/// Parses a date into days since 1970-01-01. False for anything but YYYY-MM-DD or an
/// impossible date (2023-02-29).
bool ParseDate32(std::string_view text, int32_t* days);

struct ParsedTimestamp {
  int64_t seconds =
      0;  // since 1970-01-01T00:00:00; UTC when has_zone, wall clock otherwise
  int32_t nanos = 0;      // [0, 1e9)
  bool has_zone = false;  // 'Z' or an offset was given (seconds already shifted to UTC)
};

/// Parses a date or date-time. False when `text` is not one of the accepted forms.
bool ParseTimestamp(std::string_view text, ParsedTimestamp* out);

/// Expresses `ts` in `unit`. False when that overflows int64 or would drop a non-zero
/// fraction finer than the unit ("10:00:00.5" into seconds).
bool TimestampToUnit(const ParsedTimestamp& ts, arrow::TimeUnit::type unit, int64_t* out);

}  // namespace sluice::json::internal
