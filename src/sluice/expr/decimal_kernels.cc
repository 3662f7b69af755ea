#include "sluice/expr/decimal_kernels.h"

#include <arrow/array.h>
#include <arrow/array/util.h>
#include <arrow/buffer.h>
#include <arrow/scalar.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace sluice::expr {

namespace {

using Int128 = __int128;
using UInt128 = unsigned __int128;

constexpr int kMaxDigits = 38;

Int128 PowerOfTen(int k) {
  Int128 v = 1;
  for (int i = 0; i < k; ++i) v *= 10;
  return v;
}

Int128 Load(const uint8_t* p) {
  Int128 v;
  std::memcpy(&v, p, sizeof(v));  // little-endian: low word first, as Arrow stores it
  return v;
}

// One operand seen as 128-bit integers: an array (stride 16) or a scalar (stride 0).
struct Operand {
  bool is_scalar = false;
  bool scalar_valid = true;
  Int128 scalar_value = 0;
  const uint8_t* values = nullptr;  // 16-byte two's-complement words
  const uint8_t* validity = nullptr;
  int64_t offset = 0;
  int64_t length = 0;
  int precision = 0;
  int scale = 0;
  std::vector<Int128> widened;  // integer arrays, converted

  int stride() const { return is_scalar ? 0 : 16; }
  const uint8_t* base() const {
    return is_scalar ? reinterpret_cast<const uint8_t*>(&scalar_value)
                     : values + offset * 16;
  }
};

int IntegerDigits(arrow::Type::type id) {
  switch (id) {
    case arrow::Type::INT8:
      return 3;
    case arrow::Type::INT16:
      return 5;
    case arrow::Type::INT32:
      return 10;
    case arrow::Type::INT64:
      return 19;
    default:
      return 0;
  }
}

int64_t IntegerValue(const uint8_t* p, int width) {
  switch (width) {
    case 1:
      return static_cast<int8_t>(*p);
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

// Fills `op` from a decimal128 or signed integer datum; false if it is neither.
bool MakeOperand(const arrow::Datum& d, bool allow_integers, Operand* op) {
  const auto& type = *d.type();
  bool decimal = type.id() == arrow::Type::DECIMAL128;
  int int_digits = IntegerDigits(type.id());
  if (!decimal && !(allow_integers && int_digits > 0)) return false;
  if (decimal) {
    const auto& t = static_cast<const arrow::Decimal128Type&>(type);
    op->precision = t.precision();
    op->scale = t.scale();
  } else {
    op->precision = int_digits;
    op->scale = 0;
  }
  if (d.is_scalar()) {
    const auto& s = *d.scalar();
    op->is_scalar = true;
    op->scalar_valid = s.is_valid;
    if (!s.is_valid) return true;
    if (decimal) {
      op->scalar_value = Load(
          static_cast<const arrow::Decimal128Scalar&>(s).value.native_endian_bytes());
    } else {
      auto view = static_cast<const arrow::internal::PrimitiveScalarBase&>(s).view();
      op->scalar_value = IntegerValue(reinterpret_cast<const uint8_t*>(view.data()),
                                      static_cast<int>(view.size()));
    }
    return true;
  }
  if (!d.is_array()) return false;
  const arrow::ArrayData& a = *d.array();
  op->length = a.length;
  op->validity = a.null_count == 0 ? nullptr : a.GetValues<uint8_t>(0, 0);
  op->offset = a.offset;
  if (decimal) {
    op->values = a.GetValues<uint8_t>(1, 0);
    return true;
  }
  int width = type.byte_width();
  const uint8_t* raw = a.GetValues<uint8_t>(1, 0) + a.offset * width;
  op->widened.resize(a.length);
  for (int64_t i = 0; i < a.length; ++i)
    op->widened[i] = IntegerValue(raw + i * width, width);
  op->values = reinterpret_cast<const uint8_t*>(op->widened.data());
  op->offset = 0;
  return true;
}

// Validity of the result: the AND of both operands' (neither scalar is null here).
Result<std::shared_ptr<arrow::Buffer>> CombinedValidity(const Operand& a,
                                                        const Operand& b, int64_t n,
                                                        int64_t* null_count) {
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  std::shared_ptr<arrow::Buffer> out;
  if (a.validity && b.validity) {
    ARROW_ASSIGN_OR_RAISE(out, arrow::internal::BitmapAnd(pool, a.validity, a.offset,
                                                          b.validity, b.offset, n, 0));
  } else if (a.validity || b.validity) {
    const Operand& v = a.validity ? a : b;
    ARROW_ASSIGN_OR_RAISE(out,
                          arrow::internal::CopyBitmap(pool, v.validity, v.offset, n));
  } else {
    *null_count = 0;
    return nullptr;
  }
  *null_count = n - arrow::internal::CountSetBits(out->data(), 0, n);
  return out;
}

// The answer when a scalar operand is null: all null.
Result<arrow::Datum> AllNull(const std::shared_ptr<arrow::DataType>& type, bool scalar,
                             int64_t n) {
  if (scalar) return arrow::Datum(arrow::MakeNullScalar(type));
  ARROW_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(type, n));
  return arrow::Datum(std::move(nulls));
}

bool Valid(const Operand& o, int64_t i) {
  return o.validity == nullptr || arrow::bit_util::GetBit(o.validity, o.offset + i);
}

template <char Op>
UInt128 Apply(UInt128 x, UInt128 y) {
  if constexpr (Op == '+') return x + y;
  if constexpr (Op == '-') return x - y;
  return x * y;
}

bool FitsInt64(Int128 x) { return x == static_cast<int64_t>(x); }

// x * y with overflow detection; operands of 64 bits (most decimals) multiply without
// the library call a 128-bit overflow check needs.
bool MulChecked(Int128 x, Int128 y, Int128* v) {
  if (FitsInt64(x) && FitsInt64(y)) {
    *v = static_cast<Int128>(static_cast<int64_t>(x)) * static_cast<int64_t>(y);
    return false;
  }
  return __builtin_mul_overflow(x, y, v);
}

template <char Op>
bool ApplyChecked(Int128 x, Int128 y, Int128* v) {
  if constexpr (Op == '+') return __builtin_add_overflow(x, y, v);
  if constexpr (Op == '-') return __builtin_sub_overflow(x, y, v);
  return MulChecked(x, y, v);
}

// out[i] = (a[i] * fa) op (b[i] * fb), wrapping: only used where no value can overflow.
template <char Op>
void ArithmeticUnchecked(const Operand& a, const Operand& b, UInt128 fa, UInt128 fb,
                         int64_t n, uint8_t* out) {
  const uint8_t* pa = a.base();
  const uint8_t* pb = b.base();
  const int sa = a.stride(), sb = b.stride();
  for (int64_t i = 0; i < n; ++i) {
    UInt128 x = static_cast<UInt128>(Load(pa + i * sa));
    UInt128 y = static_cast<UInt128>(Load(pb + i * sb));
    if (fa != 1) x *= fa;
    if (fb != 1) y *= fb;
    UInt128 v = Apply<Op>(x, y);
    std::memcpy(out + i * 16, &v, 16);
  }
}

template <char Op>
Status ArithmeticChecked(const Operand& a, const Operand& b, Int128 fa, Int128 fb,
                         Int128 limit, int64_t n, uint8_t* out) {
  const uint8_t* pa = a.base();
  const uint8_t* pb = b.base();
  const int sa = a.stride(), sb = b.stride();
  for (int64_t i = 0; i < n; ++i) {
    Int128 v = 0;
    if (Valid(a, i) && Valid(b, i)) {
      Int128 x = Load(pa + i * sa), y = Load(pb + i * sb);
      bool overflow = (fa != 1 && MulChecked(x, fa, &x)) ||
                      (fb != 1 && MulChecked(y, fb, &y)) || ApplyChecked<Op>(x, y, &v) ||
                      v >= limit || v <= -limit;
      if (overflow) {
        return Status::Invalid("decimal overflow in ", std::string(1, Op),
                               ": the result needs more than ", kMaxDigits, " digits");
      }
    }
    std::memcpy(out + i * 16, &v, 16);
  }
  return Status::OK();
}

// Digits of |v| (0 for 0).
int Digits(Int128 v) {
  UInt128 m = v < 0 ? -static_cast<UInt128>(v) : static_cast<UInt128>(v);
  int d = 0;
  while (m != 0) {
    m /= 10;
    ++d;
  }
  return d;
}

template <typename Cmp>
void CompareLoop(const Operand& a, const Operand& b, int64_t n, uint8_t* bits, Cmp cmp) {
  const uint8_t* pa = a.base();
  const uint8_t* pb = b.base();
  const int sa = a.stride(), sb = b.stride();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint8_t byte = 0;
    for (int j = 0; j < 8; ++j) {
      byte |= static_cast<uint8_t>(cmp(Load(pa + (i + j) * sa), Load(pb + (i + j) * sb)))
              << j;
    }
    bits[i / 8] = byte;
  }
  if (i < n) {
    uint8_t byte = 0;
    for (int j = 0; i + j < n; ++j) {
      byte |= static_cast<uint8_t>(cmp(Load(pa + (i + j) * sa), Load(pb + (i + j) * sb)))
              << j;
    }
    bits[i / 8] = byte;
  }
}

}  // namespace

std::optional<Result<arrow::Datum>> DecimalArithmetic(char op, const arrow::Datum& a,
                                                      const arrow::Datum& b,
                                                      const arrow::DataType& out) {
  if (out.id() != arrow::Type::DECIMAL128 || (op != '+' && op != '-' && op != '*'))
    return std::nullopt;
  Operand x, y;
  if (!MakeOperand(a, true, &x) || !MakeOperand(b, true, &y)) return std::nullopt;
  if (!x.is_scalar && !y.is_scalar && x.length != y.length) return std::nullopt;
  const auto& out_type = static_cast<const arrow::Decimal128Type&>(out);
  const int scale = out_type.scale(), precision = out_type.precision();
  int kx = 0, ky = 0;  // powers of ten that bring each operand to the result scale
  if (op == '*') {
    if (scale != x.scale + y.scale) return std::nullopt;
  } else {
    if (scale != std::max(x.scale, y.scale)) return std::nullopt;
    kx = scale - x.scale;
    ky = scale - y.scale;
  }
  auto out_ptr = std::make_shared<arrow::Decimal128Type>(precision, scale);
  const bool scalars = x.is_scalar && y.is_scalar;
  const int64_t n = scalars ? 1 : (x.is_scalar ? y.length : x.length);
  if ((x.is_scalar && !x.scalar_valid) || (y.is_scalar && !y.scalar_valid)) {
    return AllNull(out_ptr, scalars, n);
  }
  // The most digits a result can have, from the operand types (a scalar from its value).
  int dx = (x.is_scalar ? Digits(x.scalar_value) : x.precision) + kx;
  int dy = (y.is_scalar ? Digits(y.scalar_value) : y.precision) + ky;
  int bound = op == '*' ? dx + dy : std::max(dx, dy) + 1;
  if (precision > kMaxDigits || kx > kMaxDigits || ky > kMaxDigits) return std::nullopt;

  auto run = [&]() -> Result<arrow::Datum> {
    ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * 16));
    uint8_t* dst = values->mutable_data();
    Int128 fx = PowerOfTen(kx), fy = PowerOfTen(ky);
    if (bound <= precision) {
      auto unchecked = [&]<char Op>() {
        ArithmeticUnchecked<Op>(x, y, static_cast<UInt128>(fx), static_cast<UInt128>(fy),
                                n, dst);
      };
      if (op == '+') unchecked.template operator()<'+'>();
      if (op == '-') unchecked.template operator()<'-'>();
      if (op == '*') unchecked.template operator()<'*'>();
    } else {
      Int128 limit = PowerOfTen(precision);
      Status st = op == '+'   ? ArithmeticChecked<'+'>(x, y, fx, fy, limit, n, dst)
                  : op == '-' ? ArithmeticChecked<'-'>(x, y, fx, fy, limit, n, dst)
                              : ArithmeticChecked<'*'>(x, y, fx, fy, limit, n, dst);
      ARROW_RETURN_NOT_OK(st);
    }
    if (scalars) {
      return arrow::Datum(
          std::make_shared<arrow::Decimal128Scalar>(arrow::Decimal128(dst), out_ptr));
    }
    int64_t null_count = 0;
    ARROW_ASSIGN_OR_RAISE(auto validity, CombinedValidity(x, y, n, &null_count));
    auto data = arrow::ArrayData::Make(
        out_ptr, n, {std::move(validity), std::move(values)}, null_count);
    return arrow::Datum(arrow::MakeArray(data));
  };
  return run();
}

std::optional<Result<arrow::Datum>> DecimalCompare(arrow::compute::CompareOperator op,
                                                   const arrow::Datum& a,
                                                   const arrow::Datum& b) {
  Operand x, y;
  if (!MakeOperand(a, false, &x) || !MakeOperand(b, false, &y)) return std::nullopt;
  if (x.scale != y.scale) return std::nullopt;
  if (!x.is_scalar && !y.is_scalar && x.length != y.length) return std::nullopt;
  const bool scalars = x.is_scalar && y.is_scalar;
  const int64_t n = scalars ? 1 : (x.is_scalar ? y.length : x.length);
  if ((x.is_scalar && !x.scalar_valid) || (y.is_scalar && !y.scalar_valid)) {
    return AllNull(arrow::boolean(), scalars, n);
  }
  auto run = [&]() -> Result<arrow::Datum> {
    ARROW_ASSIGN_OR_RAISE(auto bits,
                          arrow::AllocateBuffer(arrow::bit_util::BytesForBits(n)));
    uint8_t* dst = bits->mutable_data();
    using CO = arrow::compute::CompareOperator;
    switch (op) {
      case CO::EQUAL:
        CompareLoop(x, y, n, dst, [](Int128 p, Int128 q) { return p == q; });
        break;
      case CO::NOT_EQUAL:
        CompareLoop(x, y, n, dst, [](Int128 p, Int128 q) { return p != q; });
        break;
      case CO::LESS:
        CompareLoop(x, y, n, dst, [](Int128 p, Int128 q) { return p < q; });
        break;
      case CO::LESS_EQUAL:
        CompareLoop(x, y, n, dst, [](Int128 p, Int128 q) { return p <= q; });
        break;
      case CO::GREATER:
        CompareLoop(x, y, n, dst, [](Int128 p, Int128 q) { return p > q; });
        break;
      case CO::GREATER_EQUAL:
        CompareLoop(x, y, n, dst, [](Int128 p, Int128 q) { return p >= q; });
        break;
    }
    if (scalars) return arrow::Datum(arrow::bit_util::GetBit(dst, 0));
    int64_t null_count = 0;
    ARROW_ASSIGN_OR_RAISE(auto validity, CombinedValidity(x, y, n, &null_count));
    auto data = arrow::ArrayData::Make(
        arrow::boolean(), n, {std::move(validity), std::move(bits)}, null_count);
    return arrow::Datum(arrow::MakeArray(data));
  };
  return run();
}

}  // namespace sluice::expr
