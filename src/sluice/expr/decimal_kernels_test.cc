#include "sluice/expr/decimal_kernels.h"

#include <arrow/array.h>
#include <arrow/array/builder_decimal.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api.h>
#include <arrow/scalar.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sluice::expr {
namespace {

namespace cp = arrow::compute;

// Arrow's compute functions (the reference) must be registered before use.
const bool kComputeReady = cp::Initialize().ok();

// Random decimal(precision, scale) values, some of them null, some at the extremes.
std::shared_ptr<arrow::Array> RandomDecimals(int precision, int scale, int64_t n,
                                             std::mt19937_64* rng) {
  arrow::Decimal128Builder b(arrow::decimal128(precision, scale));
  std::uniform_int_distribution<int> pick(0, 9);
  std::uniform_int_distribution<int> digits(0, precision);
  for (int64_t i = 0; i < n; ++i) {
    int p = pick(*rng);
    if (p == 0) {
      EXPECT_TRUE(b.AppendNull().ok());
      continue;
    }
    // A value with a random number of digits (all nines at p == 1: the largest).
    int d = p == 1 ? precision : digits(*rng);
    std::string text = (p % 2 == 0) ? "-" : "";
    for (int k = 0; k < d; ++k)
      text += p == 1 ? '9' : static_cast<char>('0' + pick(*rng));
    if (text.empty() || text == "-") text += "0";
    auto v = arrow::Decimal128::FromString(text).ValueOrDie();
    EXPECT_TRUE(b.Append(v).ok());
  }
  return b.Finish().ValueOrDie();
}

// The reference: Arrow's checked kernels.
arrow::Datum Reference(char op, const arrow::Datum& a, const arrow::Datum& b) {
  EXPECT_TRUE(kComputeReady);
  const char* name = op == '+'   ? "add_checked"
                     : op == '-' ? "subtract_checked"
                                 : "multiply_checked";
  auto r = cp::CallFunction(name, {a, b});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

void ExpectSame(const arrow::Datum& got, const arrow::Datum& want) {
  ASSERT_TRUE(got.type()->Equals(*want.type()))
      << got.type()->ToString() << " vs " << want.type()->ToString();
  if (want.is_scalar()) {
    ASSERT_TRUE(got.is_scalar());
    EXPECT_TRUE(got.scalar()->Equals(*want.scalar()))
        << got.scalar()->ToString() << " vs " << want.scalar()->ToString();
    return;
  }
  auto g = got.make_array();
  auto w = want.make_array();
  EXPECT_TRUE(g->Equals(*w)) << g->ToString() << "\nvs\n" << w->ToString();
}

TEST(DecimalKernels, ArithmeticMatchesArrowOnRandomArraysAndScalars) {
  std::mt19937_64 rng(7);
  const std::pair<int, int> types[] = {{15, 2}, {12, 0}, {18, 6}, {5, 4}, {17, 3}};
  for (auto [pa, sa] : types) {
    for (auto [pb, sb] : types) {
      auto x = RandomDecimals(pa, sa, 517, &rng);
      auto y = RandomDecimals(pb, sb, 517, &rng);
      for (char op : {'+', '-', '*'}) {
        SCOPED_TRACE(std::string(1, op) + " " + x->type()->ToString() + " " +
                     y->type()->ToString());
        auto want = Reference(op, x, y);
        auto got = DecimalArithmetic(op, x, y, *want.type());
        ASSERT_TRUE(got.has_value());
        ASSERT_TRUE(got->ok()) << got->status().ToString();
        ExpectSame(**got, want);
        // Array with scalar, both orders, and a sliced array.
        auto s = y->GetScalar(3).ValueOrDie();
        auto want_s = Reference(op, x, s);
        auto got_s = DecimalArithmetic(op, x, s, *want_s.type());
        ASSERT_TRUE(got_s.has_value() && got_s->ok());
        ExpectSame(**got_s, want_s);
        auto want_r = Reference(op, s, x->Slice(5, 300));
        auto got_r = DecimalArithmetic(op, s, x->Slice(5, 300), *want_r.type());
        ASSERT_TRUE(got_r.has_value() && got_r->ok());
        ExpectSame(**got_r, want_r);
      }
    }
  }
}

TEST(DecimalKernels, IntegerOperandsCountAsScaleZero) {
  std::mt19937_64 rng(11);
  auto x = RandomDecimals(15, 2, 300, &rng);
  arrow::Int32Builder ib;
  for (int i = 0; i < 300; ++i) {
    if (i % 7 == 0) {
      ASSERT_TRUE(ib.AppendNull().ok());
    } else {
      ASSERT_TRUE(ib.Append(i * 1000003 - 150000000).ok());
    }
  }
  auto ints = ib.Finish().ValueOrDie();
  for (char op : {'+', '-', '*'}) {
    auto want = Reference(op, ints, x);
    auto got = DecimalArithmetic(op, ints, x, *want.type());
    ASSERT_TRUE(got.has_value() && got->ok());
    ExpectSame(**got, want);
    arrow::Datum one(std::make_shared<arrow::Int64Scalar>(1));
    auto want1 = Reference(op, one, x);
    auto got1 = DecimalArithmetic(op, one, x, *want1.type());
    ASSERT_TRUE(got1.has_value() && got1->ok());
    ExpectSame(**got1, want1);
  }
}

TEST(DecimalKernels, NullScalarGivesNulls) {
  std::mt19937_64 rng(3);
  auto x = RandomDecimals(10, 2, 20, &rng);
  arrow::Datum null_scalar(arrow::MakeNullScalar(arrow::decimal128(10, 2)));
  auto got = DecimalArithmetic('+', x, null_scalar, *arrow::decimal128(11, 2));
  ASSERT_TRUE(got.has_value() && got->ok());
  EXPECT_EQ((*got)->make_array()->null_count(), 20);
  auto cmp = DecimalCompare(cp::CompareOperator::LESS, null_scalar, x);
  ASSERT_TRUE(cmp.has_value() && cmp->ok());
  EXPECT_EQ((*cmp)->make_array()->null_count(), 20);
}

TEST(DecimalKernels, ResultsBeyond38DigitsAreOverflowErrors) {
  // decimal(38,0) + decimal(38,0) has no exact type; with the result typed
  // decimal(38,0), 10^38 - 1 + 1 needs 39 digits.
  auto nines = arrow::Decimal128::FromString(std::string(38, '9')).ValueOrDie();
  arrow::Decimal128Builder b(arrow::decimal128(38, 0));
  ASSERT_TRUE(b.Append(arrow::Decimal128(5)).ok());
  ASSERT_TRUE(b.AppendNull().ok());  // garbage behind a null never overflows
  ASSERT_TRUE(b.Append(nines).ok());
  auto x = b.Finish().ValueOrDie();
  arrow::Datum one(std::make_shared<arrow::Decimal128Scalar>(arrow::Decimal128(1),
                                                             arrow::decimal128(38, 0)));
  auto got = DecimalArithmetic('+', x, one, *arrow::decimal128(38, 0));
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_NE(got->status().message().find("decimal overflow in +"), std::string::npos);
  // Values that fit do not raise, at the same types.
  auto fine = DecimalArithmetic('+', x->Slice(0, 2), one, *arrow::decimal128(38, 0));
  ASSERT_TRUE(fine.has_value() && fine->ok());
  EXPECT_EQ((*fine)->make_array()->GetScalar(0).ValueOrDie()->ToString(), "6");
  // Multiplication: 10^20 * 10^20 = 10^40.
  auto big = arrow::Decimal128::FromString("1" + std::string(20, '0')).ValueOrDie();
  arrow::Datum s(
      std::make_shared<arrow::Decimal128Scalar>(big, arrow::decimal128(38, 0)));
  auto mul = DecimalArithmetic('*', s, s, *arrow::decimal128(38, 0));
  ASSERT_TRUE(mul.has_value());
  EXPECT_FALSE(mul->ok());
}

TEST(DecimalKernels, OutsideTheContractIsDeclined) {
  std::mt19937_64 rng(5);
  auto x = RandomDecimals(10, 2, 10, &rng);
  // Wrong result scale for *, a double operand, and decimals of different scales in a
  // comparison are left to the general path.
  EXPECT_FALSE(DecimalArithmetic('*', x, x, *arrow::decimal128(21, 2)).has_value());
  arrow::Datum d(std::make_shared<arrow::DoubleScalar>(1.5));
  EXPECT_FALSE(DecimalArithmetic('+', x, d, *arrow::decimal128(12, 2)).has_value());
  auto y = RandomDecimals(10, 3, 10, &rng);
  EXPECT_FALSE(DecimalCompare(cp::CompareOperator::EQUAL, x, y).has_value());
}

TEST(DecimalKernels, ComparisonsMatchArrow) {
  std::mt19937_64 rng(13);
  const std::pair<cp::CompareOperator, const char*> ops[] = {
      {cp::CompareOperator::EQUAL, "equal"},
      {cp::CompareOperator::NOT_EQUAL, "not_equal"},
      {cp::CompareOperator::LESS, "less"},
      {cp::CompareOperator::LESS_EQUAL, "less_equal"},
      {cp::CompareOperator::GREATER, "greater"},
      {cp::CompareOperator::GREATER_EQUAL, "greater_equal"}};
  for (int precision : {3, 15, 38}) {
    auto x = RandomDecimals(precision, 2, 1001, &rng);
    auto y = RandomDecimals(precision, 2, 1001, &rng);
    auto s = x->GetScalar(1).ValueOrDie();
    for (auto [op, name] : ops) {
      SCOPED_TRACE(std::string(name) + " " + std::to_string(precision));
      for (auto [a, b] : {std::pair<arrow::Datum, arrow::Datum>{x, y},
                          {x->Slice(3, 700), y->Slice(9, 700)},
                          {x, s},
                          {s, y},
                          {s, s}}) {
        auto want = cp::CallFunction(name, {a, b}).ValueOrDie();
        auto got = DecimalCompare(op, a, b);
        ASSERT_TRUE(got.has_value() && got->ok());
        ExpectSame(**got, want);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::expr
