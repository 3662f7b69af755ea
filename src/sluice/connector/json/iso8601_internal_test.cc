#include "sluice/connector/json/iso8601_internal.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace sluice::json::internal {

namespace {

int32_t Date(const std::string& s) {
  int32_t days = 0;
  EXPECT_TRUE(ParseDate32(s, &days)) << s;
  return days;
}

int64_t Micros(const std::string& s) {
  ParsedTimestamp ts;
  EXPECT_TRUE(ParseTimestamp(s, &ts)) << s;
  int64_t v = 0;
  EXPECT_TRUE(TimestampToUnit(ts, arrow::TimeUnit::MICRO, &v)) << s;
  return v;
}

}  // namespace

TEST(Iso8601, Dates) {
  EXPECT_EQ(Date("1970-01-01"), 0);
  EXPECT_EQ(Date("1969-12-31"), -1);
  EXPECT_EQ(Date("2024-02-29"), 19782);
  EXPECT_EQ(Date("2000-03-01"), 11017);
  EXPECT_EQ(Date("1900-03-01"), -25508);
  EXPECT_EQ(Date("0001-01-01"), -719162);
  EXPECT_EQ(Date("9999-12-31"), 2932896);
  int32_t days;
  for (const char* bad :
       {"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-01",
        "24-01-01", "2024-01-01T00:00", "2024/01/01", "", " 2024-01-01", "2024-01-0x"}) {
    EXPECT_FALSE(ParseDate32(bad, &days)) << bad;
  }
}

TEST(Iso8601, Timestamps) {
  EXPECT_EQ(Micros("2024-01-15T10:30:00Z"), 1705314600000000);
  EXPECT_EQ(Micros("2024-01-15 10:30:00.123456z"), 1705314600123456);
  EXPECT_EQ(Micros("2024-01-15t12:30:00+02:00"), 1705314600000000);
  EXPECT_EQ(Micros("2024-01-15T12:30+0200"), 1705314600000000);
  EXPECT_EQ(Micros("2024-01-15T08:30-02"), 1705314600000000);
  EXPECT_EQ(Micros("1969-12-31T23:59:59.5"), -500000);
  EXPECT_EQ(Micros("1969-12-31T23:59:59,5"), -500000);
  EXPECT_EQ(Micros("2024-01-15"), 1705276800000000);

  ParsedTimestamp ts;
  ASSERT_TRUE(ParseTimestamp("2024-01-15T10:30:00", &ts));
  EXPECT_FALSE(ts.has_zone);
  ASSERT_TRUE(ParseTimestamp("2024-01-15T10:30:00+00:00", &ts));
  EXPECT_TRUE(ts.has_zone);
  for (const char* bad :
       {"2024-01-15T", "2024-01-15T10", "2024-01-15T24:00", "2024-01-15T10:60",
        "2024-01-15T10:30:60", "2024-01-15T10:30:00.", "2024-01-15T10:30:00.1234567891",
        "2024-01-15T10:30:00+2", "2024-01-15T10:30:00+02:0", "2024-01-15T10:30:00+24:00",
        "2024-01-15T10:30:00 Z", "2024-01-15Z", "2024-01-15T10:30:00Zx",
        "2024-02-30T00:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad, &ts)) << bad;
  }
}

TEST(Iso8601, Units) {
  ParsedTimestamp ts;
  int64_t v;
  ASSERT_TRUE(ParseTimestamp("1970-01-01T00:00:01.5", &ts));
  EXPECT_FALSE(TimestampToUnit(ts, arrow::TimeUnit::SECOND, &v));  // would drop .5
  ASSERT_TRUE(TimestampToUnit(ts, arrow::TimeUnit::MILLI, &v));
  EXPECT_EQ(v, 1500);
  ASSERT_TRUE(TimestampToUnit(ts, arrow::TimeUnit::NANO, &v));
  EXPECT_EQ(v, 1500000000);
  ASSERT_TRUE(ParseTimestamp("1970-01-01T00:00:01.000", &ts));
  ASSERT_TRUE(TimestampToUnit(ts, arrow::TimeUnit::SECOND, &v));
  EXPECT_EQ(v, 1);
  ASSERT_TRUE(ParseTimestamp("9999-12-31T00:00:00", &ts));
  EXPECT_FALSE(TimestampToUnit(ts, arrow::TimeUnit::NANO, &v));  // beyond year 2262
  ASSERT_TRUE(TimestampToUnit(ts, arrow::TimeUnit::MICRO, &v));
}

// Random date-times, parsed here and by Arrow's cast from strings (the reference).
TEST(Iso8601, AgreesWithArrowCast) {
  ASSERT_TRUE(arrow::compute::Initialize().ok());
  std::mt19937_64 rng(20240115);
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  std::vector<std::string> naive, zoned, dates;
  for (int i = 0; i < 2000; ++i) {
    char buf[96];
    int y = pick(1700, 2250), m = pick(1, 12), d = pick(1, 28);
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
    std::string s = buf;
    dates.push_back(s);
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d:%02d", pick(0, 1) ? 'T' : ' ',
                  pick(0, 23), pick(0, 59), pick(0, 59));
    s += buf;
    if (pick(0, 1)) {
      int digits = pick(1, 9);
      s += '.';
      for (int k = 0; k < digits; ++k) s += static_cast<char>('0' + pick(0, 9));
    }
    naive.push_back(s);
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d", pick(0, 1) ? '+' : '-', pick(0, 14),
                  pick(0, 59));
    zoned.push_back(s + (pick(0, 3) == 0 ? std::string("Z") : std::string(buf)));
  }
  auto check = [&](const std::vector<std::string>& strings,
                   const std::shared_ptr<arrow::DataType>& type, bool date) {
    arrow::StringBuilder builder;
    ASSERT_TRUE(builder.AppendValues(strings).ok());
    auto input = builder.Finish().ValueOrDie();
    auto cast = arrow::compute::Cast(*input, type);
    ASSERT_TRUE(cast.ok()) << cast.status().ToString();
    for (size_t i = 0; i < strings.size(); ++i) {
      auto scalar = (*cast)->GetScalar(static_cast<int64_t>(i)).ValueOrDie();
      int64_t expected =
          date ? std::static_pointer_cast<arrow::Date32Scalar>(scalar)->value
               : std::static_pointer_cast<arrow::TimestampScalar>(scalar)->value;
      int64_t actual = 0;
      if (date) {
        int32_t days = 0;
        ASSERT_TRUE(ParseDate32(strings[i], &days)) << strings[i];
        actual = days;
      } else {
        ParsedTimestamp ts;
        ASSERT_TRUE(ParseTimestamp(strings[i], &ts)) << strings[i];
        ASSERT_TRUE(TimestampToUnit(ts, arrow::TimeUnit::NANO, &actual)) << strings[i];
      }
      ASSERT_EQ(actual, expected) << strings[i];
    }
  };
  check(dates, arrow::date32(), true);
  check(naive, arrow::timestamp(arrow::TimeUnit::NANO), false);
  check(zoned, arrow::timestamp(arrow::TimeUnit::NANO, "UTC"), false);
}

}  // namespace sluice::json::internal
