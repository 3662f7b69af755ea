#include "sluice/connector/json/iso8601_internal.h"

namespace sluice::json::internal {

namespace {

// Reads exactly `n` decimal digits at `p`.
bool Digits(const char* p, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a valid proleptic Gregorian date (the era-based civil
// calendar conversion: 400-year eras of 146097 days).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + doe - 719468;
}

// Parses the YYYY-MM-DD prefix of `text` (which must be at least 10 bytes).
bool ParseDatePrefix(std::string_view text, int64_t* days) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  int y, m, d;
  if (!Digits(text.data(), 4, &y) || !Digits(text.data() + 5, 2, &m) ||
      !Digits(text.data() + 8, 2, &d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  *days = DaysFromCivil(y, m, d);
  return true;
}

}  // namespace

bool ParseDate32(std::string_view text, int32_t* days) {
  int64_t d;
  if (text.size() != 10 || !ParseDatePrefix(text, &d)) return false;
  *days = static_cast<int32_t>(d);
  return true;
}

bool ParseTimestamp(std::string_view text, ParsedTimestamp* out) {
  int64_t days;
  if (!ParseDatePrefix(text, &days)) return false;
  ParsedTimestamp ts;
  ts.seconds = days * 86400;
  size_t i = 10;
  if (i == text.size()) {
    *out = ts;
    return true;
  }
  if (text[i] != 'T' && text[i] != 't' && text[i] != ' ') return false;
  ++i;
  int hh, mm, ss = 0;
  if (text.size() < i + 5 || !Digits(&text[i], 2, &hh) || text[i + 2] != ':' ||
      !Digits(&text[i + 3], 2, &mm) || hh > 23 || mm > 59) {
    return false;
  }
  i += 5;
  if (i < text.size() && text[i] == ':') {
    if (text.size() < i + 3 || !Digits(&text[i + 1], 2, &ss) || ss > 59) return false;
    i += 3;
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      ++i;
      int n = 0;
      int32_t nanos = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (++n > 9) return false;
        nanos = nanos * 10 + (text[i] - '0');
        ++i;
      }
      if (n == 0) return false;
      for (int k = n; k < 9; ++k) nanos *= 10;
      ts.nanos = nanos;
    }
  }
  ts.seconds += hh * 3600 + mm * 60 + ss;
  if (i < text.size()) {
    char c = text[i];
    if (c == 'Z' || c == 'z') {
      ++i;
    } else if (c == '+' || c == '-') {
      int oh, om = 0;
      if (text.size() < i + 3 || !Digits(&text[i + 1], 2, &oh) || oh > 23) return false;
      i += 3;
      if (i < text.size()) {
        if (text[i] == ':') ++i;
        if (text.size() != i + 2 || !Digits(&text[i], 2, &om) || om > 59) return false;
        i += 2;
      }
      // Local time = UTC + offset, so UTC = local - offset.
      int64_t offset = oh * 3600 + om * 60;
      ts.seconds += c == '+' ? -offset : offset;
    } else {
      return false;
    }
    ts.has_zone = true;
  }
  if (i != text.size()) return false;
  *out = ts;
  return true;
}

bool TimestampToUnit(const ParsedTimestamp& ts, arrow::TimeUnit::type unit,
                     int64_t* out) {
  int64_t per_second;
  int32_t nanos_per_unit;
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      per_second = 1;
      nanos_per_unit = 1000000000;
      break;
    case arrow::TimeUnit::MILLI:
      per_second = 1000;
      nanos_per_unit = 1000000;
      break;
    case arrow::TimeUnit::MICRO:
      per_second = 1000000;
      nanos_per_unit = 1000;
      break;
    default:
      per_second = 1000000000;
      nanos_per_unit = 1;
      break;
  }
  if (ts.nanos % nanos_per_unit != 0) return false;
  int64_t scaled;
  if (__builtin_mul_overflow(ts.seconds, per_second, &scaled)) return false;
  return !__builtin_add_overflow(scaled, ts.nanos / nanos_per_unit, out);
}

}  // namespace sluice::json::internal
