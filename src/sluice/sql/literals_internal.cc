#include "sluice/sql/literals_internal.h"

#include <arrow/util/decimal.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "sluice/base/text.h"
#include "sluice/expr/function_registry.h"
#include "sluice/expr/types.h"

namespace sluice::sql::internal {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

Result<std::shared_ptr<arrow::Scalar>> DoubleLiteral(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') {
    return Status::Invalid("invalid numeric literal '", text, "'");
  }
  return arrow::MakeScalar(v);
}

}  // namespace

Result<std::shared_ptr<arrow::Scalar>> CastScalar(
    const std::shared_ptr<arrow::Scalar>& value,
    const std::shared_ptr<arrow::DataType>& type) {
  ARROW_ASSIGN_OR_RAISE(auto lit, expr::CastTo(expr::Literal(value), type));
  return lit->value;
}

Result<std::shared_ptr<arrow::Scalar>> NumericLiteral(std::string_view text_in) {
  std::string text(Trim(text_in));
  if (text.find_first_of("eE") != std::string::npos) return DoubleLiteral(text);
  int digits = 0;
  for (char c : text) digits += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  if (text.find('.') == std::string::npos) {
    int64_t v = 0;
    const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size()) {
      if (v >= std::numeric_limits<int32_t>::min() &&
          v <= std::numeric_limits<int32_t>::max()) {
        return arrow::MakeScalar(static_cast<int32_t>(v));
      }
      return arrow::MakeScalar(v);
    }
  }
  if (digits <= arrow::Decimal128Type::kMaxPrecision) {
    arrow::Decimal128 value;
    int32_t precision = 0;
    int32_t scale = 0;
    if (arrow::Decimal128::FromString(text, &value, &precision, &scale).ok() &&
        precision <= arrow::Decimal128Type::kMaxPrecision && scale >= 0) {
      precision = std::max({precision, scale, 1});
      return std::make_shared<arrow::Decimal128Scalar>(
          value, arrow::decimal128(precision, scale));
    }
  }
  return DoubleLiteral(text);
}

Result<std::shared_ptr<arrow::DataType>> TypeFromPgName(
    const std::vector<std::string>& names, const std::vector<int64_t>& typmods,
    bool bare_float) {
  if (names.empty()) return Status::Invalid("empty type name");
  bool internal = names.size() == 2 && names[0] == "pg_catalog";
  if (names.size() > 1 && !internal) {
    return Status::Invalid("unknown type '", names[0], ".", names[1], "'");
  }
  std::string name = AsciiLower(names.back());
  if (name == "interval") return arrow::month_day_nano_interval();
  // PostgreSQL's internal names and the aliases both engines share, to names
  // expr::ParseTypeName knows.
  static const std::pair<const char*, const char*> kAliases[] = {
      {"bool", "boolean"},
      {"int1", "tinyint"},
      {"int2", "smallint"},
      {"int4", "integer"},
      {"int8", "bigint"},
      {"float4", "real"},
      {"float8", "double"},
      {"numeric", "decimal"},
      {"bpchar", "varchar"},
      {"timestamp_s", "timestamp(s)"},
      {"timestamp_ms", "timestamp(ms)"},
      {"timestamp_us", "timestamp(us)"},
      {"timestamp_ns", "timestamp(ns)"}};
  for (const auto& [from, to] : kAliases) {
    if (name == from) {
      name = to;
      break;
    }
  }
  if (bare_float && name == "double") name = "real";
  if (name == "timestamp" || name == "timestamptz") {
    if (typmods.size() > 1) return Status::Invalid("bad precision for ", name);
    if (typmods.size() == 1) {
      // PostgreSQL's precision is the number of fractional second digits (0..6).
      int64_t p = typmods[0];
      auto unit = p <= 0   ? arrow::TimeUnit::SECOND
                  : p <= 3 ? arrow::TimeUnit::MILLI
                  : p <= 6 ? arrow::TimeUnit::MICRO
                           : arrow::TimeUnit::NANO;
      return name == "timestamptz" ? arrow::timestamp(unit, "UTC")
                                   : arrow::timestamp(unit);
    }
    return expr::ParseTypeName(name);
  }
  if (name == "varchar" || name == "char" || name == "text" || name == "string") {
    return expr::ParseTypeName(name);  // lengths are not enforced
  }
  if (!typmods.empty()) {
    std::string full = name + "(";
    for (size_t i = 0; i < typmods.size(); ++i) {
      if (i > 0) full += ",";
      full += std::to_string(typmods[i]);
    }
    name = full + ")";
  }
  return expr::ParseTypeName(name);
}

namespace {

// Interval field bits of PostgreSQL's interval typmod (datetime.h: INTERVAL_MASK).
constexpr int64_t kMaskMonth = 1 << 1;
constexpr int64_t kMaskYear = 1 << 2;
constexpr int64_t kMaskDay = 1 << 3;
constexpr int64_t kMaskHour = 1 << 10;
constexpr int64_t kMaskMinute = 1 << 11;
constexpr int64_t kMaskSecond = 1 << 12;

constexpr long double kNanosPerSecond = 1e9L;
constexpr long double kNanosPerDay = 86400e9L;

struct IntervalParts {
  long double months = 0;
  long double days = 0;
  long double nanos = 0;
};

// Adds `value` of `unit` ("" means the unit of a bare number); false if unknown.
bool AddUnit(IntervalParts* parts, long double value, const std::string& unit_in) {
  std::string unit = unit_in;
  if (unit.size() > 2 && unit.back() == 's') unit.pop_back();
  if (unit == "microsecond" || unit == "us" || unit == "usec") {
    parts->nanos += value * 1e3L;
  } else if (unit == "millisecond" || unit == "ms" || unit == "msec") {
    parts->nanos += value * 1e6L;
  } else if (unit == "second" || unit == "sec" || unit == "s") {
    parts->nanos += value * kNanosPerSecond;
  } else if (unit == "minute" || unit == "min" || unit == "m") {
    parts->nanos += value * 60 * kNanosPerSecond;
  } else if (unit == "hour" || unit == "hr" || unit == "h") {
    parts->nanos += value * 3600 * kNanosPerSecond;
  } else if (unit == "day" || unit == "d") {
    parts->days += value;
  } else if (unit == "week" || unit == "w") {
    parts->days += value * 7;
  } else if (unit == "month" || unit == "mon") {
    parts->months += value;
  } else if (unit == "quarter") {
    parts->months += value * 3;
  } else if (unit == "year" || unit == "yr" || unit == "y") {
    parts->months += value * 12;
  } else if (unit == "decade") {
    parts->months += value * 120;
  } else if (unit == "century" || unit == "centurie") {
    parts->months += value * 1200;
  } else if (unit == "millennium" || unit == "millennia") {
    parts->months += value * 12000;
  } else {
    return false;
  }
  return true;
}

// "[-]H:M[:S[.f]]" -> nanoseconds.
bool ParseClock(std::string_view s, long double* nanos) {
  bool negative = !s.empty() && s[0] == '-';
  if (negative || (!s.empty() && s[0] == '+')) s.remove_prefix(1);
  long double parts[3] = {0, 0, 0};
  int n = 0;
  while (!s.empty() && n < 3) {
    size_t colon = s.find(':');
    std::string piece(s.substr(0, colon));
    if (piece.empty()) return false;
    char* end = nullptr;
    parts[n++] = std::strtold(piece.c_str(), &end);
    if (*end != '\0' ||
        (n < 3 && piece.find('.') != std::string::npos && colon != s.npos)) {
      return false;
    }
    if (colon == std::string_view::npos) {
      s = {};
    } else {
      s.remove_prefix(colon + 1);
    }
  }
  if (!s.empty() || n < 2) return false;
  *nanos = (parts[0] * 3600 + parts[1] * 60 + parts[2]) * kNanosPerSecond;
  if (negative) *nanos = -*nanos;
  return true;
}

}  // namespace

Result<std::shared_ptr<arrow::Scalar>> IntervalLiteral(std::string_view text_in,
                                                       int64_t field_mask) {
  std::string text = AsciiLower(Trim(text_in));
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid interval '", std::string(text_in), "': ", why);
  };
  // The unit of a bare number: the smallest field of the typmod, else seconds.
  std::string bare_unit = "second";
  if (field_mask >= 0 && field_mask != 0x7FFF) {
    if (field_mask & kMaskSecond) {
      bare_unit = "second";
    } else if (field_mask & kMaskMinute) {
      bare_unit = "minute";
    } else if (field_mask & kMaskHour) {
      bare_unit = "hour";
    } else if (field_mask & kMaskDay) {
      bare_unit = "day";
    } else if (field_mask & kMaskMonth) {
      bare_unit = "month";
    } else if (field_mask & kMaskYear) {
      bare_unit = "year";
    }
  }
  std::vector<std::string> tokens;
  {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) ||
                                 text[i] == ',' || text[i] == '@')) {
        ++i;
      }
      size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) &&
             text[i] != ',') {
        ++i;
      }
      if (i > start) tokens.push_back(text.substr(start, i - start));
    }
  }
  if (tokens.empty()) return bad("empty");
  IntervalParts parts;
  bool ago = false;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::string& tok = tokens[t];
    if (tok == "ago") {
      if (t + 1 != tokens.size()) return bad("'ago' must come last");
      ago = true;
      continue;
    }
    if (tok.find(':') != std::string::npos) {
      long double nanos = 0;
      if (!ParseClock(tok, &nanos)) return bad("cannot read time '" + tok + "'");
      parts.nanos += nanos;
      continue;
    }
    // A number, possibly glued to its unit ("3days", "10s").
    size_t k = 0;
    if (k < tok.size() && (tok[k] == '-' || tok[k] == '+')) ++k;
    while (k < tok.size() &&
           (std::isdigit(static_cast<unsigned char>(tok[k])) || tok[k] == '.')) {
      ++k;
    }
    std::string number = tok.substr(0, k);
    std::string unit = tok.substr(k);
    char* end = nullptr;
    long double value = std::strtold(number.c_str(), &end);
    if (number.empty() || end == number.c_str() || *end != '\0') {
      return bad("expected a number, got '" + tok + "'");
    }
    if (unit.empty()) {
      if (t + 1 < tokens.size() && tokens[t + 1] != "ago" &&
          tokens[t + 1].find(':') == std::string::npos &&
          !std::isdigit(static_cast<unsigned char>(tokens[t + 1][0])) &&
          tokens[t + 1][0] != '-' && tokens[t + 1][0] != '+') {
        unit = tokens[++t];
      } else {
        unit = bare_unit;
      }
    }
    if (!AddUnit(&parts, value, unit)) return bad("unknown unit '" + unit + "'");
  }
  // Fractions cascade down: months -> days (30 per month) -> nanoseconds.
  long double whole_months = std::trunc(parts.months);
  parts.days += (parts.months - whole_months) * 30;
  long double whole_days = std::trunc(parts.days);
  parts.nanos += (parts.days - whole_days) * kNanosPerDay;
  long double nanos = std::llround(parts.nanos);
  if (std::fabs(whole_months) > std::numeric_limits<int32_t>::max() ||
      std::fabs(whole_days) > std::numeric_limits<int32_t>::max() ||
      std::fabs(nanos) > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    return bad("out of range");
  }
  int sign = ago ? -1 : 1;
  arrow::MonthDayNanoIntervalType::MonthDayNanos v{
      sign * static_cast<int32_t>(whole_months), sign * static_cast<int32_t>(whole_days),
      sign * static_cast<int64_t>(nanos)};
  return std::make_shared<arrow::MonthDayNanoIntervalScalar>(v);
}

}  // namespace sluice::sql::internal
