#include <arrow/type.h>
#include <arrow/util/value_parsing.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "sluice/connector/csv/csv_value_parsing_internal.h"

namespace sluice::csv {
namespace {

ParseStatus Int(const std::string& s, int64_t* out) {
  return ParseInt64(s.data(), static_cast<int64_t>(s.size()), out);
}

TEST(CsvValueParsingTest, Int64) {
  int64_t v = 0;
  EXPECT_EQ(Int("0", &v), ParseStatus::kOk);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(Int("+17", &v), ParseStatus::kOk);
  EXPECT_EQ(v, 17);
  EXPECT_EQ(Int("-17", &v), ParseStatus::kOk);
  EXPECT_EQ(v, -17);
  EXPECT_EQ(Int("9223372036854775807", &v), ParseStatus::kOk);
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Int("-9223372036854775808", &v), ParseStatus::kOk);
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Int("0000000000000000000000000042", &v), ParseStatus::kOk);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(Int("9223372036854775808", &v), ParseStatus::kRange);
  EXPECT_EQ(Int("-9223372036854775809", &v), ParseStatus::kRange);
  EXPECT_EQ(Int("99999999999999999999", &v), ParseStatus::kRange);
  EXPECT_EQ(Int("999999999999999999999999", &v), ParseStatus::kRange);
  for (const char* bad : {"", "-", "+", "1a", " 1", "1 ", "1.0", "--1", "1e3", "0x10",
                          "9999999999999999999x"}) {
    EXPECT_EQ(Int(bad, &v), ParseStatus::kSyntax) << bad;
  }
}

TEST(CsvValueParsingTest, UInt64) {
  uint64_t v = 0;
  auto parse = [&](const std::string& s) {
    return ParseUInt64(s.data(), static_cast<int64_t>(s.size()), &v);
  };
  EXPECT_EQ(parse("18446744073709551615"), ParseStatus::kOk);
  EXPECT_EQ(v, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(parse("18446744073709551616"), ParseStatus::kRange);
  EXPECT_EQ(parse("-0"), ParseStatus::kOk);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(parse("-1"), ParseStatus::kRange);
  EXPECT_EQ(parse("+5"), ParseStatus::kOk);
  EXPECT_EQ(v, 5u);
  EXPECT_EQ(parse("5-"), ParseStatus::kSyntax);
}

TEST(CsvValueParsingTest, Floating) {
  double d = 0;
  auto parse = [&](const std::string& s) {
    return ParseDouble(s.data(), static_cast<int64_t>(s.size()), &d);
  };
  EXPECT_EQ(parse("+1.5"), ParseStatus::kOk);
  EXPECT_EQ(d, 1.5);
  EXPECT_EQ(parse("-2.5e-3"), ParseStatus::kOk);
  EXPECT_EQ(d, -2.5e-3);
  EXPECT_EQ(parse("0.1"), ParseStatus::kOk);
  EXPECT_EQ(d, 0.1);
  EXPECT_EQ(parse("1e400"), ParseStatus::kOk);
  EXPECT_TRUE(std::isinf(d));
  EXPECT_EQ(parse("-Infinity"), ParseStatus::kOk);
  EXPECT_TRUE(std::isinf(d) && d < 0);
  EXPECT_EQ(parse("NaN"), ParseStatus::kOk);
  EXPECT_TRUE(std::isnan(d));
  for (const char* bad :
       {"", "+", "+-1", "1e", ".", "1,5", "0x10", "1.2.3", "e5", "abc"}) {
    EXPECT_EQ(parse(bad), ParseStatus::kSyntax) << bad;
  }
  float f = 0;
  EXPECT_EQ(ParseFloat("3.25", 4, &f), ParseStatus::kOk);
  EXPECT_EQ(f, 3.25f);
}

TEST(CsvValueParsingTest, Bool) {
  bool b = false;
  for (const char* t : {"true", "TRUE", "True", "tRuE"}) {
    EXPECT_EQ(ParseBool(t, 4, true, &b), ParseStatus::kOk) << t;
    EXPECT_TRUE(b);
  }
  EXPECT_EQ(ParseBool("FALSE", 5, true, &b), ParseStatus::kOk);
  EXPECT_FALSE(b);
  EXPECT_EQ(ParseBool("1", 1, true, &b), ParseStatus::kSyntax);
  EXPECT_EQ(ParseBool("1", 1, false, &b), ParseStatus::kOk);
  EXPECT_TRUE(b);
  EXPECT_EQ(ParseBool("0", 1, false, &b), ParseStatus::kOk);
  EXPECT_FALSE(b);
  EXPECT_EQ(ParseBool("yes", 3, false, &b), ParseStatus::kSyntax);
  EXPECT_EQ(ParseBool("truex", 5, false, &b), ParseStatus::kSyntax);
}

// Dates against std::chrono's civil calendar over a wide range.
TEST(CsvValueParsingTest, DatesAgainstChrono) {
  using namespace std::chrono;
  for (int64_t days = -719468; days < 2932897; days += 97) {  // 0000-03-01 .. 9999-12-31
    year_month_day ymd{sys_days{std::chrono::days{days}}};
    std::string text =
        fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    int32_t parsed = 0;
    ASSERT_EQ(ParseDate(text.data(), 10, &parsed), ParseStatus::kOk) << text;
    ASSERT_EQ(parsed, days) << text;
  }
  int32_t d;
  for (const char* bad :
       {"2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "2024-01-00", "2024-1-01",
        "2024/01/01", "24-01-01", "2024-01-011", "1900-02-29"}) {
    EXPECT_EQ(ParseDate(bad, static_cast<int64_t>(std::strlen(bad)), &d),
              ParseStatus::kSyntax)
        << bad;
  }
  EXPECT_EQ(ParseDate("2000-02-29", 10, &d), ParseStatus::kOk);
}

// ISO timestamps against Arrow's ISO 8601 parser.
TEST(CsvValueParsingTest, TimestampsAgainstArrow) {
  auto arrow_parser = arrow::TimestampParser::MakeISO8601();
  for (const char* text :
       {"2024-01-02 03:04:05", "2024-01-02T03:04:05", "1969-12-31 23:59:59",
        "2024-01-02 03:04:05.123", "2024-01-02 03:04:05.123456",
        "2024-01-02 03:04:05.123456789", "2024-01-02T03:04:05Z",
        "2024-01-02 03:04:05+01:00", "2024-01-02 03:04:05-0530", "2024-01-02 03:04:05+05",
        "1900-03-01T00:00:00", "2024-01-02 03:04", "2024-01-02",
        "1970-01-01 00:00:00.5-01:30", "2262-04-11 23:47:16"}) {
    for (auto unit : {arrow::TimeUnit::SECOND, arrow::TimeUnit::MILLI,
                      arrow::TimeUnit::MICRO, arrow::TimeUnit::NANO}) {
      int64_t expected = 0;
      bool arrow_ok = (*arrow_parser)(text, std::strlen(text), unit, &expected);
      if (!arrow_ok) continue;  // Arrow rejects lost precision (e.g. .123 as seconds)
      IsoTimestamp ts;
      ASSERT_EQ(ParseIsoTimestamp(text, static_cast<int64_t>(std::strlen(text)), &ts),
                ParseStatus::kOk)
          << text;
      int64_t actual = 0;
      ASSERT_EQ(IsoTimestampToUnit(ts, unit, &actual), ParseStatus::kOk) << text;
      EXPECT_EQ(actual, expected) << text << " unit " << unit;
    }
  }
  IsoTimestamp ts;
  for (const char* bad :
       {"2024-01-02 24:00:00", "2024-01-02 03:60:00", "2024-01-02 03:04:61",
        "2024-01-02 03", "2024-01-02X03:04:05", "2024-01-02 03:04:05.",
        "2024-01-02 03:04:05 ", "2024-01-02 03:04:05+1", "2024-01-02 03:04:05Zx",
        "2024-01-02 3:04:05"}) {
    EXPECT_EQ(ParseIsoTimestamp(bad, static_cast<int64_t>(std::strlen(bad)), &ts),
              ParseStatus::kSyntax)
        << bad;
  }
  // Digits beyond nanoseconds are dropped; fractions below the unit truncate.
  const char* many = "1970-01-01 00:00:01.1234567891";
  ASSERT_EQ(ParseIsoTimestamp(many, static_cast<int64_t>(std::strlen(many)), &ts),
            ParseStatus::kOk);
  int64_t v;
  EXPECT_EQ(IsoTimestampToUnit(ts, arrow::TimeUnit::NANO, &v), ParseStatus::kOk);
  EXPECT_EQ(v, 1123456789);
  EXPECT_EQ(IsoTimestampToUnit(ts, arrow::TimeUnit::MILLI, &v), ParseStatus::kOk);
  EXPECT_EQ(v, 1123);
  // Out of the nanosecond range.
  ASSERT_EQ(ParseIsoTimestamp("2300-01-01", 10, &ts), ParseStatus::kOk);
  EXPECT_EQ(IsoTimestampToUnit(ts, arrow::TimeUnit::NANO, &v), ParseStatus::kRange);
  EXPECT_EQ(IsoTimestampToUnit(ts, arrow::TimeUnit::MICRO, &v), ParseStatus::kOk);
}

std::string Decimal(const std::string& text, int32_t precision, int32_t scale,
                    ParseStatus expected_status = ParseStatus::kOk) {
  arrow::Decimal128 value;
  ParseStatus st = ParseDecimal128(text.data(), static_cast<int64_t>(text.size()),
                                   precision, scale, &value);
  EXPECT_EQ(st, expected_status) << text;
  return st == ParseStatus::kOk ? value.ToString(scale) : "";
}

TEST(CsvValueParsingTest, Decimal128) {
  EXPECT_EQ(Decimal("12.345", 10, 2), "12.35");  // half away from zero
  EXPECT_EQ(Decimal("12.344", 10, 2), "12.34");
  EXPECT_EQ(Decimal("-12.345", 10, 2), "-12.35");
  EXPECT_EQ(Decimal("-0.005", 10, 2), "-0.01");
  EXPECT_EQ(Decimal("0.004", 10, 2), "0.00");
  EXPECT_EQ(Decimal("+7", 10, 2), "7.00");
  EXPECT_EQ(Decimal(".5", 3, 1), "0.5");
  EXPECT_EQ(Decimal("5.", 3, 1), "5.0");
  EXPECT_EQ(Decimal("1e2", 5, 2), "100.00");
  EXPECT_EQ(Decimal("1.5E-1", 5, 2), "0.15");
  EXPECT_EQ(Decimal("125e-3", 5, 2), "0.13");
  EXPECT_EQ(Decimal("1e-100", 5, 2), "0.00");
  EXPECT_EQ(Decimal("0e100000", 5, 2), "0.00");
  EXPECT_EQ(Decimal("999.994", 5, 2), "999.99");
  EXPECT_EQ(Decimal("00000000000000000000000000000000000000000001.5", 5, 2), "1.50");
  EXPECT_EQ(Decimal("12345678901234567890123456789012345678", 38, 0),
            "12345678901234567890123456789012345678");
  EXPECT_EQ(Decimal("-99999999999999999999999999999999999999", 38, 0),
            "-99999999999999999999999999999999999999");
  EXPECT_EQ(Decimal("1234.5", 6, -1), "1.23E+3");  // negative scale: 123 tens
  Decimal("999.995", 5, 2, ParseStatus::kRange);
  Decimal("1000", 5, 2, ParseStatus::kRange);
  Decimal("123456789012345678901234567890123456789", 38, 0, ParseStatus::kRange);
  Decimal("1e38", 38, 0, ParseStatus::kRange);
  Decimal("1e100000000", 5, 2, ParseStatus::kRange);
  for (const char* bad :
       {"", "-", ".", "1e", "1.2.3", "abc", "1,5", "e3", "1e+", "--1"}) {
    Decimal(bad, 10, 2, ParseStatus::kSyntax);
  }
}

// Exactly representable values agree with Arrow's decimal parsing.
TEST(CsvValueParsingTest, Decimal128AgainstArrow) {
  for (const char* text : {"0", "1", "-1", "3.14", "-271.8", "1234567.89", "0.01",
                           "-0.10", "5e3", "1.23e-1"}) {
    arrow::Decimal128 expected;
    int32_t precision = 0;
    int32_t scale = 0;
    ASSERT_TRUE(arrow::Decimal128::FromString(text, &expected, &precision, &scale).ok());
    auto rescaled = expected.Rescale(scale, 4);
    ASSERT_TRUE(rescaled.ok());
    arrow::Decimal128 actual;
    ASSERT_EQ(
        ParseDecimal128(text, static_cast<int64_t>(std::strlen(text)), 20, 4, &actual),
        ParseStatus::kOk);
    EXPECT_EQ(actual, *rescaled) << text;
  }
}

TEST(CsvValueParsingTest, NullMatcherAndTrim) {
  NullMatcher matcher({"", "NULL", "N/A"});
  EXPECT_TRUE(matcher.Matches("", 0));
  EXPECT_TRUE(matcher.Matches("NULL", 4));
  EXPECT_TRUE(matcher.Matches("N/A", 3));
  EXPECT_FALSE(matcher.Matches("null", 4));
  EXPECT_FALSE(matcher.Matches("NUL", 3));
  NullMatcher none({});
  EXPECT_FALSE(none.Matches("", 0));
  std::string long_null(100, 'z');
  NullMatcher long_matcher({long_null});
  EXPECT_TRUE(long_matcher.Matches(long_null.data(), 100));
  EXPECT_FALSE(long_matcher.Matches(std::string(100, 'y').data(), 100));

  const char* text = " \t 42 \t";
  int64_t length = 7;
  TrimSpaces(&text, &length);
  EXPECT_EQ(std::string(text, length), "42");
  text = "   ";
  length = 3;
  TrimSpaces(&text, &length);
  EXPECT_EQ(length, 0);
}

}  // namespace
}  // namespace sluice::csv
