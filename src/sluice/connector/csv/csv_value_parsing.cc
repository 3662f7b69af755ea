#include <arrow/type.h>
#include <arrow/util/value_parsing.h>

#include <limits>
#include <system_error>

#include "sluice/connector/csv/csv_value_parsing_internal.h"

namespace sluice::csv {

NullMatcher::NullMatcher(std::vector<std::string> values) : values_(std::move(values)) {
  for (const std::string& v : values_) {
    if (v.size() < 64) length_mask_ |= uint64_t{1} << v.size();
  }
}

bool NullMatcher::MatchesSlow(const char* text, int64_t length) const {
  for (const std::string& v : values_) {
    if (static_cast<int64_t>(v.size()) == length &&
        std::memcmp(v.data(), text, length) == 0) {
      return true;
    }
  }
  return false;
}

namespace {

inline bool IsDigit(char c) { return static_cast<unsigned>(c - '0') < 10; }

// Accumulates the digits of text[begin, end) into *out. 19 digits always fit in uint64;
// longer runs (after leading zeros) are checked for overflow.
ParseStatus ParseDigits(const char* text, int64_t begin, int64_t end, uint64_t* out) {
  if (begin == end) return ParseStatus::kSyntax;
  while (end - begin > 19 && text[begin] == '0') ++begin;
  uint64_t v = 0;
  if (end - begin <= 19) {
    for (int64_t i = begin; i < end; ++i) {
      unsigned d = static_cast<unsigned>(text[i] - '0');
      if (d > 9) return ParseStatus::kSyntax;
      v = v * 10 + d;
    }
    *out = v;
    return ParseStatus::kOk;
  }
  bool overflow = false;
  for (int64_t i = begin; i < end; ++i) {
    unsigned d = static_cast<unsigned>(text[i] - '0');
    if (d > 9) return ParseStatus::kSyntax;
    if (__builtin_mul_overflow(v, uint64_t{10}, &v) || __builtin_add_overflow(v, d, &v)) {
      overflow = true;
    }
  }
  if (overflow) return ParseStatus::kRange;
  *out = v;
  return ParseStatus::kOk;
}

inline int32_t TwoDigits(const char* s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

inline bool AllDigits(const char* s, int n) {
  for (int i = 0; i < n; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

inline bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline int32_t DaysInMonth(int64_t year, int32_t month) {
  static constexpr int32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool EqualsIgnoreCase(const char* text, int64_t length, const char* lower) {
  for (int64_t i = 0; i < length; ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return lower[length] == '\0';
}

template <typename T>
ParseStatus ParseFloating(const char* text, int64_t length, T* out) {
  const char* s = text;
  const char* end = text + length;
  if (s < end && *s == '+') {
    ++s;
    if (s < end && *s == '-') return ParseStatus::kSyntax;
  }
  if (s == end) return ParseStatus::kSyntax;
  // Arrow's parser (vendored fast_float) is several times faster than libstdc++ 12's
  // std::from_chars on long mantissas.
  if (!arrow::internal::StringToFloat(s, static_cast<size_t>(end - s), '.', out)) {
    return ParseStatus::kSyntax;
  }
  return ParseStatus::kOk;
}

using UInt128 = unsigned __int128;

struct Pow10Table {
  UInt128 values[39];
  Pow10Table() {
    values[0] = 1;
    for (int i = 1; i < 39; ++i) values[i] = values[i - 1] * 10;
  }
};
const Pow10Table kPow10;

}  // namespace

int64_t DaysFromCivil(int64_t year, int32_t month, int32_t day) {
  // Days from 0000-03-01 in 400-year eras, shifted to the Unix epoch.
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year =
      (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

ParseStatus ParseInt64(const char* text, int64_t length, int64_t* out) {
  if (length == 0) return ParseStatus::kSyntax;
  bool negative = false;
  int64_t i = 0;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  uint64_t magnitude;
  ParseStatus st = ParseDigits(text, i, length, &magnitude);
  if (st != ParseStatus::kOk) return st;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (magnitude > kMax + 1) return ParseStatus::kRange;
    *out = static_cast<int64_t>(0 - magnitude);
  } else {
    if (magnitude > kMax) return ParseStatus::kRange;
    *out = static_cast<int64_t>(magnitude);
  }
  return ParseStatus::kOk;
}

ParseStatus ParseUInt64(const char* text, int64_t length, uint64_t* out) {
  if (length == 0) return ParseStatus::kSyntax;
  bool negative = false;
  int64_t i = 0;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  ParseStatus st = ParseDigits(text, i, length, out);
  if (st != ParseStatus::kOk) return st;
  if (negative && *out != 0) return ParseStatus::kRange;
  return ParseStatus::kOk;
}

ParseStatus ParseDouble(const char* text, int64_t length, double* out) {
  return ParseFloating(text, length, out);
}

ParseStatus ParseFloat(const char* text, int64_t length, float* out) {
  return ParseFloating(text, length, out);
}

ParseStatus ParseBool(const char* text, int64_t length, bool strict, bool* out) {
  if (length == 4 && EqualsIgnoreCase(text, 4, "true")) {
    *out = true;
    return ParseStatus::kOk;
  }
  if (length == 5 && EqualsIgnoreCase(text, 5, "false")) {
    *out = false;
    return ParseStatus::kOk;
  }
  if (!strict && length == 1 && (text[0] == '1' || text[0] == '0')) {
    *out = text[0] == '1';
    return ParseStatus::kOk;
  }
  return ParseStatus::kSyntax;
}

// YYYY-MM-DD at text[0, 10).
static bool ParseDateParts(const char* s, int64_t* days) {
  if (!AllDigits(s, 4) || s[4] != '-' || !AllDigits(s + 5, 2) || s[7] != '-' ||
      !AllDigits(s + 8, 2)) {
    return false;
  }
  int64_t year = TwoDigits(s) * 100 + TwoDigits(s + 2);
  int32_t month = TwoDigits(s + 5);
  int32_t day = TwoDigits(s + 8);
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return false;
  *days = DaysFromCivil(year, month, day);
  return true;
}

ParseStatus ParseDate(const char* text, int64_t length, int32_t* days) {
  int64_t d;
  if (length != 10 || !ParseDateParts(text, &d)) return ParseStatus::kSyntax;
  *days = static_cast<int32_t>(d);
  return ParseStatus::kOk;
}

ParseStatus ParseIsoTimestamp(const char* text, int64_t length, IsoTimestamp* out) {
  int64_t days;
  if (length < 10 || !ParseDateParts(text, &days)) return ParseStatus::kSyntax;
  *out = IsoTimestamp{};
  out->seconds = days * 86400;
  if (length == 10) return ParseStatus::kOk;
  const char* s = text + 10;
  const char* end = text + length;
  if (*s != 'T' && *s != 't' && *s != ' ') return ParseStatus::kSyntax;
  ++s;
  // HH:MM
  if (end - s < 5 || !AllDigits(s, 2) || s[2] != ':' || !AllDigits(s + 3, 2)) {
    return ParseStatus::kSyntax;
  }
  int32_t hour = TwoDigits(s);
  int32_t minute = TwoDigits(s + 3);
  int32_t second = 0;
  s += 5;
  out->has_time = true;
  if (s < end && *s == ':') {
    if (end - s < 3 || !AllDigits(s + 1, 2)) return ParseStatus::kSyntax;
    second = TwoDigits(s + 1);
    s += 3;
    out->has_seconds = true;
    if (s < end && (*s == '.' || *s == ',')) {
      ++s;
      if (s == end || !IsDigit(*s)) return ParseStatus::kSyntax;
      int32_t nanos = 0;
      int digits = 0;
      for (; s < end && IsDigit(*s); ++s, ++digits) {
        if (digits < 9) nanos = nanos * 10 + (*s - '0');
      }
      for (; digits < 9; ++digits) nanos *= 10;
      out->nanos = nanos;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return ParseStatus::kSyntax;
  int64_t offset_seconds = 0;
  if (s < end) {
    if ((*s == 'Z' || *s == 'z') && s + 1 == end) {
      out->has_zone = true;
      s = end;
    } else if (*s == '+' || *s == '-') {
      int sign = *s == '-' ? -1 : 1;
      ++s;
      int32_t zone_hours;
      int32_t zone_minutes = 0;
      if (end - s < 2 || !AllDigits(s, 2)) return ParseStatus::kSyntax;
      zone_hours = TwoDigits(s);
      s += 2;
      if (s < end && *s == ':') ++s;
      if (s < end) {
        if (end - s != 2 || !AllDigits(s, 2)) return ParseStatus::kSyntax;
        zone_minutes = TwoDigits(s);
        s += 2;
      }
      if (zone_hours > 23 || zone_minutes > 59) return ParseStatus::kSyntax;
      offset_seconds = sign * (zone_hours * 3600 + zone_minutes * 60);
      out->has_zone = true;
    } else {
      return ParseStatus::kSyntax;
    }
  }
  // Local time = UTC + offset.
  out->seconds += hour * 3600 + minute * 60 + second - offset_seconds;
  return ParseStatus::kOk;
}

ParseStatus IsoTimestampToUnit(const IsoTimestamp& ts, arrow::TimeUnit::type unit,
                               int64_t* out) {
  int64_t multiplier;
  int32_t divisor;
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      *out = ts.seconds;
      return ParseStatus::kOk;
    case arrow::TimeUnit::MILLI:
      multiplier = 1000;
      divisor = 1000000;
      break;
    case arrow::TimeUnit::MICRO:
      multiplier = 1000000;
      divisor = 1000;
      break;
    default:
      multiplier = 1000000000;
      divisor = 1;
      break;
  }
  int64_t v;
  if (__builtin_mul_overflow(ts.seconds, multiplier, &v) ||
      __builtin_add_overflow(v, ts.nanos / divisor, &v)) {
    return ParseStatus::kRange;
  }
  *out = v;
  return ParseStatus::kOk;
}

ParseStatus ParseDecimal128(const char* text, int64_t length, int32_t precision,
                            int32_t scale, arrow::Decimal128* out) {
  int64_t i = 0;
  bool negative = false;
  if (i < length && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  const int64_t int_begin = i;
  while (i < length && IsDigit(text[i])) ++i;
  const int64_t int_end = i;
  int64_t frac_begin = i;
  int64_t frac_end = i;
  if (i < length && text[i] == '.') {
    frac_begin = ++i;
    while (i < length && IsDigit(text[i])) ++i;
    frac_end = i;
  }
  if (int_begin == int_end && frac_begin == frac_end) return ParseStatus::kSyntax;
  int64_t exponent = 0;
  if (i < length && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < length && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    if (i == length) return ParseStatus::kSyntax;
    for (; i < length && IsDigit(text[i]); ++i) {
      if (exponent < 100000) exponent = exponent * 10 + (text[i] - '0');
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != length) return ParseStatus::kSyntax;

  // The digits D (integer then fractional part) stand for D * 10^(exponent - nfrac); the
  // unscaled decimal is D * 10^shift.
  const int64_t nint = int_end - int_begin;
  const int64_t nfrac = frac_end - frac_begin;
  const int64_t ndigits = nint + nfrac;
  const int64_t shift = exponent - nfrac + scale;
  auto digit = [&](int64_t k) -> unsigned {
    return static_cast<unsigned>(k < nint ? text[int_begin + k] - '0'
                                          : text[frac_begin + k - nint] - '0');
  };
  const UInt128 limit = kPow10.values[38];
  const int64_t keep = shift < 0 ? ndigits + shift : ndigits;  // may be negative
  UInt128 magnitude = 0;
  for (int64_t k = 0; k < keep; ++k) {
    magnitude = magnitude * 10 + digit(k);
    if (magnitude >= limit) return ParseStatus::kRange;
  }
  if (shift < 0 && keep >= 0 && keep < ndigits && digit(keep) >= 5) ++magnitude;
  if (magnitude != 0) {
    for (int64_t k = 0; k < shift; ++k) {
      magnitude *= 10;
      if (magnitude >= limit) return ParseStatus::kRange;
    }
  }
  if (magnitude >= kPow10.values[precision]) return ParseStatus::kRange;
  UInt128 bits = negative ? ~magnitude + 1 : magnitude;
  *out = arrow::Decimal128(static_cast<int64_t>(static_cast<uint64_t>(bits >> 64)),
                           static_cast<uint64_t>(bits));
  return ParseStatus::kOk;
}

}  // namespace sluice::csv
