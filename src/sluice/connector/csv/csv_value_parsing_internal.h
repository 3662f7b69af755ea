#pragma once
// Parsing one CSV field's text as a value. All parsers take the exact text (no
// surrounding spaces: see TrimSpaces) and never allocate.
#include <arrow/type_fwd.h>
#include <arrow/util/decimal.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace sluice::csv {

enum class ParseStatus : uint8_t {
  kOk,
  kSyntax,  // not a value of the type
  kRange,   // a value, but out of the type's range (or precision)
};

/// Matches unquoted fields against CsvOptions::null_values. Cheap for the common case:
/// a field whose length no null value has is rejected by one bit test.
class NullMatcher {
 public:
  explicit NullMatcher(std::vector<std::string> values);

  bool Matches(const char* text, int64_t length) const {
    if (length < 64) {
      if (((length_mask_ >> length) & 1) == 0) return false;
      if (length == 0) return true;
    }
    return MatchesSlow(text, length);
  }

 private:
  bool MatchesSlow(const char* text, int64_t length) const;

  std::vector<std::string> values_;
  uint64_t length_mask_ = 0;  // bit n set: some value has length n (n < 64)
};

/// Drops spaces and tabs at both ends.
inline void TrimSpaces(const char** text, int64_t* length) {
  const char* s = *text;
  int64_t n = *length;
  while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
    ++s;
    --n;
  }
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) --n;
  *text = s;
  *length = n;
}

/// [+|-]digits.
ParseStatus ParseInt64(const char* text, int64_t length, int64_t* out);
/// [+]digits ("-0" is accepted as 0).
ParseStatus ParseUInt64(const char* text, int64_t length, uint64_t* out);
/// Decimal or exponent notation, inf, infinity, nan (any case), with an optional sign.
/// Values beyond the type's range become +-inf (or 0).
ParseStatus ParseDouble(const char* text, int64_t length, double* out);
ParseStatus ParseFloat(const char* text, int64_t length, float* out);
/// true/false in any case; unless `strict`, also 1/0.
ParseStatus ParseBool(const char* text, int64_t length, bool strict, bool* out);
/// YYYY-MM-DD, as days since 1970-01-01.
ParseStatus ParseDate(const char* text, int64_t length, int32_t* days);

/// YYYY-MM-DD[(T|t| )HH:MM[:SS[(.|,)digits]]][Z|z|(+|-)HH[[:]MM]], normalized to UTC.
struct IsoTimestamp {
  int64_t seconds = 0;  // since the epoch, UTC
  int32_t nanos = 0;    // fraction of a second (digits beyond 9 dropped)
  bool has_time = false;
  bool has_seconds = false;
  bool has_zone = false;
};
ParseStatus ParseIsoTimestamp(const char* text, int64_t length, IsoTimestamp* out);
/// Converts to a count of `unit` (truncating below the unit); kRange on overflow.
ParseStatus IsoTimestampToUnit(const IsoTimestamp& ts, arrow::TimeUnit::type unit,
                               int64_t* out);

/// [+|-]digits[.digits][(e|E)[+|-]digits] as a decimal with `precision` and `scale`:
/// extra fractional digits are rounded half away from zero; kRange when the value needs
/// more than `precision` digits. REQUIRES: 1 <= precision <= 38, 0 <= scale.
ParseStatus ParseDecimal128(const char* text, int64_t length, int32_t precision,
                            int32_t scale, arrow::Decimal128* out);

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t year, int32_t month, int32_t day);

}  // namespace sluice::csv
