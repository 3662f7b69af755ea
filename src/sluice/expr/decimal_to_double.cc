#include "sluice/expr/decimal_to_double.h"

#include <arrow/util/bitmap_ops.h>
#include <arrow/util/decimal.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace sluice::expr {

Result<std::shared_ptr<arrow::Array>> DecimalToDouble(const arrow::Array& decimals,
                                                      arrow::MemoryPool* pool) {
  if (decimals.type_id() != arrow::Type::DECIMAL128) {
    return Status::Invalid("internal: DecimalToDouble of ", decimals.type()->ToString());
  }
  const auto& arr = static_cast<const arrow::Decimal128Array&>(decimals);
  const int scale = static_cast<const arrow::Decimal128Type&>(*arr.type()).scale();
  // Powers of ten up to 10^22 are exact doubles; so is an integer below 2^53. Their
  // quotient, one IEEE division, is then correctly rounded.
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const int64_t n = arr.length();
  ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * 8, pool));
  double* out = reinterpret_cast<double*>(values->mutable_data());
  constexpr int64_t kExact = int64_t{1} << 53;
  for (int64_t i = 0; i < n; ++i) {
    if (arr.IsNull(i)) {
      out[i] = 0;
      continue;
    }
    arrow::Decimal128 v(arr.GetValue(i));
    const int64_t hi = v.high_bits();
    const uint64_t lo = v.low_bits();
    // Fits in int64 when the high word is the sign extension of the low one.
    const int64_t low = static_cast<int64_t>(lo);
    const bool fits =
        (hi == 0 && low >= 0 && low < kExact) || (hi == -1 && low < 0 && low > -kExact);
    if (fits && scale >= 0 && scale <= 22) {
      out[i] = static_cast<double>(low) / kPow10[scale];
    } else {
      // Rare (more than 15 digits, or a scale beyond 22): the decimal text, which
      // strtod rounds correctly.
      std::string text = v.ToString(scale);
      out[i] = std::strtod(text.c_str(), nullptr);
    }
  }
  std::shared_ptr<arrow::Buffer> validity;
  if (arr.null_count() > 0) {
    ARROW_ASSIGN_OR_RAISE(validity,
                          arrow::AllocateBuffer(arrow::bit_util::BytesForBits(n), pool));
    arrow::internal::CopyBitmap(arr.null_bitmap_data(), arr.offset(), n,
                                validity->mutable_data(), 0);
  }
  return arrow::MakeArray(arrow::ArrayData::Make(
      arrow::float64(), n, {std::move(validity), std::move(values)}, arr.null_count()));
}

}  // namespace sluice::expr
