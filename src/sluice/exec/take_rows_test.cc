#include "sluice/exec/take_rows.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include <random>

#include "sluice/testing/assert_ok.h"

namespace sluice::exec {
namespace {

std::shared_ptr<arrow::Array> Random(const std::shared_ptr<arrow::DataType>& type,
                                     int64_t n, std::mt19937_64& rng) {
  std::unique_ptr<arrow::ArrayBuilder> b;
  auto value_type = type->id() == arrow::Type::DICTIONARY
                        ? static_cast<const arrow::DictionaryType&>(*type).value_type()
                        : type;
  EXPECT_TRUE(arrow::MakeBuilder(arrow::default_memory_pool(), value_type, &b).ok());
  for (int64_t i = 0; i < n; ++i) {
    if (rng() % 7 == 0) {
      EXPECT_TRUE(b->AppendNull().ok());
      continue;
    }
    uint64_t r = rng();
    arrow::Status st;
    switch (value_type->id()) {
      case arrow::Type::INT8:
        st = static_cast<arrow::Int8Builder&>(*b).Append(static_cast<int8_t>(r));
        break;
      case arrow::Type::INT32:
        st = static_cast<arrow::Int32Builder&>(*b).Append(static_cast<int32_t>(r));
        break;
      case arrow::Type::DOUBLE:
        st = static_cast<arrow::DoubleBuilder&>(*b).Append(static_cast<double>(r % 1000));
        break;
      case arrow::Type::BOOL:
        st = static_cast<arrow::BooleanBuilder&>(*b).Append((r & 1) != 0);
        break;
      case arrow::Type::DECIMAL128:
        st = static_cast<arrow::Decimal128Builder&>(*b).Append(
            arrow::Decimal128(static_cast<int64_t>(r)));
        break;
      case arrow::Type::STRING: {
        // 0-39 bytes, every byte its own: copies 16 bytes wide must not mix strings up.
        std::string v(r % 40, ' ');
        for (auto& c : v) c = static_cast<char>('a' + rng() % 26);
        st = static_cast<arrow::StringBuilder&>(*b).Append(v);
        break;
      }
      case arrow::Type::LARGE_STRING:
        st = static_cast<arrow::LargeStringBuilder&>(*b).Append(std::string(r % 9, 'q'));
        break;
      case arrow::Type::DATE32:
        st =
            static_cast<arrow::Date32Builder&>(*b).Append(static_cast<int32_t>(r % 9999));
        break;
      default:
        ADD_FAILURE() << type->ToString();
    }
    EXPECT_TRUE(st.ok());
  }
  std::shared_ptr<arrow::Array> out;
  EXPECT_TRUE(b->Finish(&out).ok());
  if (type->id() == arrow::Type::DICTIONARY) {
    out = arrow::compute::DictionaryEncode(out).ValueOrDie().make_array();
  }
  return out;
}

TEST(TakeRows, MatchesArrowsTakeOnSlicedColumnsOfEveryType) {
  std::mt19937_64 rng(11);
  const std::vector<std::shared_ptr<arrow::DataType>> types = {
      arrow::int8(),
      arrow::int32(),
      arrow::float64(),
      arrow::boolean(),
      arrow::decimal128(20, 3),
      arrow::utf8(),
      arrow::large_utf8(),
      arrow::date32(),
      arrow::dictionary(arrow::int32(), arrow::utf8())};
  for (const auto& type : types) {
    for (int iter = 0; iter < 20; ++iter) {
      auto whole = Random(type, 1 + static_cast<int64_t>(rng() % 500), rng);
      int64_t off = static_cast<int64_t>(rng() % whole->length());
      auto values = whole->Slice(off);
      int64_t n = static_cast<int64_t>(rng() % 700);
      std::vector<int32_t> idx32(n);
      std::vector<int64_t> idx64(n);
      for (int64_t i = 0; i < n; ++i) {
        idx32[i] = static_cast<int32_t>(rng() % values->length());
        idx64[i] = idx32[i];
      }
      arrow::Int32Array indices(n, arrow::Buffer::Wrap(idx32));
      SLUICE_ASSERT_OK_AND_ASSIGN(auto want, arrow::compute::Take(values, indices));
      SLUICE_ASSERT_OK_AND_ASSIGN(
          auto got32, TakeRows(values, idx32.data(), n, arrow::default_memory_pool()));
      SLUICE_ASSERT_OK_AND_ASSIGN(
          auto got64, TakeRows(values, idx64.data(), n, arrow::default_memory_pool()));
      SLUICE_ASSERT_OK(got32->ValidateFull());
      EXPECT_TRUE(got32->Equals(*want.make_array())) << type->ToString();
      EXPECT_TRUE(got64->Equals(*want.make_array())) << type->ToString();
    }
  }
}

TEST(TakeRows, SelectionsFromBytesAndBits) {
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 300; ++iter) {
    const int64_t n = static_cast<int64_t>(rng() % 300);
    const int64_t offset = static_cast<int64_t>(rng() % 20);
    std::vector<uint8_t> values((n + offset + 7) / 8 + 1), valid(values.size());
    for (auto& b : values) b = static_cast<uint8_t>(rng());
    for (auto& b : valid) b = static_cast<uint8_t>(rng() | rng());
    const bool with_valid = rng() % 2;
    std::vector<int32_t> want;
    std::vector<uint8_t> bytes(n);
    for (int64_t i = 0; i < n; ++i) {
      bool v = arrow::bit_util::GetBit(values.data(), offset + i) &&
               (!with_valid || arrow::bit_util::GetBit(valid.data(), offset + i));
      bytes[i] = v;
      if (v) want.push_back(static_cast<int32_t>(i));
    }
    std::vector<int32_t> got;
    SelectionFromBits(values.data(), with_valid ? valid.data() : nullptr, offset, n,
                      &got);
    EXPECT_EQ(got, want);
    SelectionFromBytes(bytes.data(), n, &got);
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace sluice::exec

namespace sluice::exec {
namespace {

// Short strings are copied 16 bytes wide only where the source buffer has 16 bytes past
// their start: a 5-byte buffer (wrapped, not padded) and an absent one (all strings
// empty) must be read exactly.
TEST(TakeRows, StringsFromBuffersShorterThanTheWideCopy) {
  const std::string bytes = "hello";
  const std::vector<int32_t> offsets = {0, 2, 5};
  auto small_ptr = std::make_shared<arrow::StringArray>(
      2, arrow::Buffer::Wrap(offsets),
      std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                      static_cast<int64_t>(bytes.size())));
  const std::vector<int32_t> idx = {1, 0, 1};
  SLUICE_ASSERT_OK_AND_ASSIGN(
      auto got, TakeRows(small_ptr, idx.data(), 3, arrow::default_memory_pool()));
  SLUICE_ASSERT_OK(got->ValidateFull());
  const auto& s = static_cast<const arrow::StringArray&>(*got);
  EXPECT_EQ(s.GetView(0), "llo");
  EXPECT_EQ(s.GetView(1), "he");
  EXPECT_EQ(s.GetView(2), "llo");

  const std::vector<int32_t> empty_offsets = {0, 0, 0};
  auto empty = std::make_shared<arrow::StringArray>(arrow::ArrayData::Make(
      arrow::utf8(), 2, {nullptr, arrow::Buffer::Wrap(empty_offsets), nullptr}, 0));
  SLUICE_ASSERT_OK_AND_ASSIGN(
      auto none, TakeRows(empty, idx.data(), 3, arrow::default_memory_pool()));
  SLUICE_ASSERT_OK(none->ValidateFull());
  EXPECT_EQ(none->length(), 3);
  EXPECT_EQ(static_cast<const arrow::StringArray&>(*none).GetView(1), "");
}

}  // namespace
}  // namespace sluice::exec
