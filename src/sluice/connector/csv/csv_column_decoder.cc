#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/buffer_builder.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/utf8.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

#include "sluice/connector/csv/csv_column_decoder_internal.h"

namespace sluice::csv {

std::string CannotParseReason(const char* text, int64_t length,
                              const std::string& type_name, ParseStatus status) {
  constexpr int64_t kMaxShown = 80;
  std::string shown(text, static_cast<size_t>(std::min(length, kMaxShown)));
  if (length > kMaxShown) shown += "...";
  std::string reason = fmt::format("cannot parse '{}' as {}", shown, type_name);
  if (status == ParseStatus::kRange) reason += ": out of range";
  return reason;
}

namespace {

// Packs one byte per value (0 or 1) into a bitmap.
void PackBits(const uint8_t* bytes, int64_t n, uint8_t* bits) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    bits[i / 8] = static_cast<uint8_t>(
        bytes[i] | bytes[i + 1] << 1 | bytes[i + 2] << 2 | bytes[i + 3] << 3 |
        bytes[i + 4] << 4 | bytes[i + 5] << 5 | bytes[i + 6] << 6 | bytes[i + 7] << 7);
  }
  if (i < n) {
    uint8_t last = 0;
    for (int64_t k = 0; i + k < n; ++k) last |= static_cast<uint8_t>(bytes[i + k] << k);
    bits[i / 8] = last;
  }
}

Result<std::shared_ptr<arrow::Buffer>> PackedBuffer(const uint8_t* bytes, int64_t n,
                                                    arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> buffer,
                        arrow::AllocateBuffer(arrow::bit_util::BytesForBits(n), pool));
  PackBits(bytes, n, buffer->mutable_data());
  return buffer;
}

// One validity byte per value while the batch is built; packed into a bitmap (only if
// there is a null) by Finish.
class ValidityBytes {
 public:
  void Reserve(int64_t additional) {
    size_t needed = static_cast<size_t>(length_ + additional);
    if (bytes_.size() < needed) bytes_.resize(std::max(needed, bytes_.size() * 2));
  }
  // Where the next value's byte goes.
  uint8_t* end() { return bytes_.data() + length_; }
  void Advance(int64_t count, int64_t nulls) {
    length_ += count;
    null_count_ += nulls;
  }
  void Truncate(int64_t length) {
    for (int64_t i = length; i < length_; ++i) null_count_ -= bytes_[i] == 0 ? 1 : 0;
    length_ = length;
  }
  Result<std::shared_ptr<arrow::Buffer>> Finish(arrow::MemoryPool* pool,
                                                int64_t* null_count) {
    *null_count = null_count_;
    std::shared_ptr<arrow::Buffer> bitmap;
    if (null_count_ > 0) {
      ARROW_ASSIGN_OR_RAISE(bitmap, PackedBuffer(bytes_.data(), length_, pool));
    }
    length_ = 0;
    null_count_ = 0;
    return bitmap;
  }

 private:
  std::vector<uint8_t> bytes_;
  int64_t length_ = 0;
  int64_t null_count_ = 0;
};

// The text of a field of a non-string column: unescaped, trimmed. Returns false when the
// value is null (a null value, or nothing left after trimming).
inline bool ValueText(const char* data, FieldRef f, const DecoderOptions& options,
                      std::string* scratch, const char** text, int64_t* length) {
  const char* s = data + f.begin;
  int64_t n = f.length;
  if (ARROW_PREDICT_FALSE(f.escaped)) {
    scratch->resize(static_cast<size_t>(n));
    n = UnescapeField(s, n, f.quoted, options.quote, options.escape, scratch->data());
    s = scratch->data();
  } else if (!f.quoted && options.nulls->Matches(s, n)) {
    return false;
  }
  TrimSpaces(&s, &n);
  *text = s;
  *length = n;
  return n > 0;
}

template <typename T>
struct SignedParser {
  ParseStatus operator()(const char* s, int64_t n, T* out) const {
    int64_t v;
    ParseStatus st = ParseInt64(s, n, &v);
    if (st != ParseStatus::kOk) return st;
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      return ParseStatus::kRange;
    }
    *out = static_cast<T>(v);
    return ParseStatus::kOk;
  }
};

template <typename T>
struct UnsignedParser {
  ParseStatus operator()(const char* s, int64_t n, T* out) const {
    uint64_t v;
    ParseStatus st = ParseUInt64(s, n, &v);
    if (st != ParseStatus::kOk) return st;
    if (v > std::numeric_limits<T>::max()) return ParseStatus::kRange;
    *out = static_cast<T>(v);
    return ParseStatus::kOk;
  }
};

struct DoubleParser {
  ParseStatus operator()(const char* s, int64_t n, double* out) const {
    return ParseDouble(s, n, out);
  }
};

struct FloatParser {
  ParseStatus operator()(const char* s, int64_t n, float* out) const {
    return ParseFloat(s, n, out);
  }
};

struct BoolParser {
  ParseStatus operator()(const char* s, int64_t n, uint8_t* out) const {
    bool b = false;  // ParseBool leaves it unset on failure (UBSan, found by fuzz_csv)
    ParseStatus st = ParseBool(s, n, /*strict=*/false, &b);
    *out = b ? 1 : 0;
    return st;
  }
};

struct DecimalParser {
  int32_t precision;
  int32_t scale;
  ParseStatus operator()(const char* s, int64_t n, arrow::Decimal128* out) const {
    return ParseDecimal128(s, n, precision, scale, out);
  }
};

struct Date32Parser {
  const arrow::TimestampParser* custom;  // may be null
  ParseStatus operator()(const char* s, int64_t n, int32_t* out) const {
    if (custom == nullptr) return ParseDate(s, n, out);
    int64_t seconds;
    if (!(*custom)(s, static_cast<size_t>(n), arrow::TimeUnit::SECOND, &seconds)) {
      return ParseStatus::kSyntax;
    }
    int64_t days = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
    if (days < std::numeric_limits<int32_t>::min() ||
        days > std::numeric_limits<int32_t>::max()) {
      return ParseStatus::kRange;
    }
    *out = static_cast<int32_t>(days);
    return ParseStatus::kOk;
  }
};

struct TimestampParser {
  arrow::TimeUnit::type unit;
  const arrow::TimestampParser* custom;  // may be null
  ParseStatus operator()(const char* s, int64_t n, int64_t* out) const {
    if (custom != nullptr) {
      return (*custom)(s, static_cast<size_t>(n), unit, out) ? ParseStatus::kOk
                                                             : ParseStatus::kSyntax;
    }
    IsoTimestamp ts;
    ParseStatus st = ParseIsoTimestamp(s, n, &ts);
    if (st != ParseStatus::kOk) return st;
    return IsoTimestampToUnit(ts, unit, out);
  }
};

// Columns of fixed-width values. With kBits, values are written one byte each and packed
// into a bitmap by Finish (bool).
template <typename CType, typename Parser, bool kBits = false>
class FixedWidthDecoder final : public ColumnDecoder {
 public:
  FixedWidthDecoder(std::shared_ptr<arrow::DataType> type, std::string type_name,
                    const DecoderOptions& options, Parser parser)
      : type_(std::move(type)),
        type_name_(std::move(type_name)),
        options_(options),
        parser_(parser),
        values_(options.pool) {}

  Status Decode(const DecodeInput& in, std::vector<ValueError>* errors) override {
    // A slice of only bad records has no fields: fields.data() may be null, and
    // null + column is undefined behaviour (UBSan, found by fuzz_csv).
    if (in.block->records.empty()) return Status::OK();
    return in.skip != nullptr ? DecodeImpl<true>(in, errors)
                              : DecodeImpl<false>(in, errors);
  }

  void Truncate(int64_t length) override {
    values_.Rewind(length * static_cast<int64_t>(sizeof(CType)));
    validity_.Truncate(length);
    length_ = length;
  }

  Result<std::shared_ptr<arrow::Array>> Finish() override {
    int64_t null_count;
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> bitmap,
                          validity_.Finish(options_.pool, &null_count));
    std::shared_ptr<arrow::Buffer> values;
    if (kBits) {
      ARROW_ASSIGN_OR_RAISE(values, PackedBuffer(values_.data(), length_, options_.pool));
      values_.Rewind(0);
    } else {
      ARROW_ASSIGN_OR_RAISE(values, values_.Finish());
    }
    auto data = arrow::ArrayData::Make(
        type_, length_, {std::move(bitmap), std::move(values)}, null_count);
    length_ = 0;
    return arrow::MakeArray(data);
  }

 private:
  template <bool kSkip>
  Status DecodeImpl(const DecodeInput& in, std::vector<ValueError>* errors) {
    const int64_t n = static_cast<int64_t>(in.block->records.size());
    ARROW_RETURN_NOT_OK(values_.Reserve(n * static_cast<int64_t>(sizeof(CType))));
    validity_.Reserve(n);
    CType* out = values_.template mutable_data_as<CType>() + length_;
    uint8_t* valid = validity_.end();
    const FieldRef* fields = in.block->fields.data() + in.column;
    const char* data = in.block->data;
    const int64_t stride = in.stride;
    int64_t j = 0;
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (kSkip && in.skip[i]) continue;
      const char* text;
      int64_t length;
      bool ok = false;
      if (ValueText(data, fields[i * stride], options_, &scratch_, &text, &length)) {
        ParseStatus st = parser_(text, length, &out[j]);
        ok = st == ParseStatus::kOk;
        if (ARROW_PREDICT_FALSE(!ok)) {
          errors->push_back(
              ValueError{i, CannotParseReason(text, length, type_name_, st)});
        }
      }
      if (!ok) {
        out[j] = CType{};
        ++nulls;
      }
      valid[j] = ok ? 1 : 0;
      ++j;
    }
    values_.UnsafeAdvance(j * static_cast<int64_t>(sizeof(CType)));
    validity_.Advance(j, nulls);
    length_ += j;
    return Status::OK();
  }

  std::shared_ptr<arrow::DataType> type_;
  std::string type_name_;
  DecoderOptions options_;
  Parser parser_;
  arrow::BufferBuilder values_;
  ValidityBytes validity_;
  std::string scratch_;
};

void InitUtf8Once() {
  static std::once_flag once;
  std::call_once(once, [] { arrow::util::InitializeUTF8(); });
}

// utf8 / large_utf8 (validated) and binary / large_binary.
template <typename OffsetType>
class StringDecoder final : public ColumnDecoder {
 public:
  StringDecoder(std::shared_ptr<arrow::DataType> type, bool utf8,
                const DecoderOptions& options)
      : type_(std::move(type)),
        utf8_(utf8),
        options_(options),
        offsets_(options.pool),
        data_(options.pool) {
    if (utf8_) InitUtf8Once();
  }

  Status Decode(const DecodeInput& in, std::vector<ValueError>* errors) override {
    // A slice of only bad records has no fields: fields.data() may be null, and
    // null + column is undefined behaviour (UBSan, found by fuzz_csv).
    if (in.block->records.empty()) return Status::OK();
    return in.skip != nullptr ? DecodeImpl<true>(in, errors)
                              : DecodeImpl<false>(in, errors);
  }

  void Truncate(int64_t length) override {
    if (offsets_.length() > 0) {
      data_.Rewind(offsets_.template data_as<OffsetType>()[length]);
      offsets_.Rewind((length + 1) * static_cast<int64_t>(sizeof(OffsetType)));
    }
    validity_.Truncate(length);
    length_ = length;
  }

  Result<std::shared_ptr<arrow::Array>> Finish() override {
    ARROW_RETURN_NOT_OK(EnsureFirstOffset());
    int64_t null_count;
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> bitmap,
                          validity_.Finish(options_.pool, &null_count));
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> offsets, offsets_.Finish());
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> data, data_.Finish());
    auto array_data = arrow::ArrayData::Make(
        type_, length_, {std::move(bitmap), std::move(offsets), std::move(data)},
        null_count);
    length_ = 0;
    return arrow::MakeArray(array_data);
  }

 private:
  Status EnsureFirstOffset() {
    if (offsets_.length() == 0) {
      OffsetType zero = 0;
      ARROW_RETURN_NOT_OK(offsets_.Append(&zero, sizeof(zero)));
    }
    return Status::OK();
  }

  template <bool kSkip>
  Status DecodeImpl(const DecodeInput& in, std::vector<ValueError>* errors) {
    const int64_t n = static_cast<int64_t>(in.block->records.size());
    const FieldRef* fields = in.block->fields.data() + in.column;
    const char* data = in.block->data;
    const int64_t stride = in.stride;
    // Unescaping only shrinks a field, so the raw lengths bound the bytes appended.
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (kSkip && in.skip[i]) continue;
      bytes += fields[i * stride].length;
    }
    if (sizeof(OffsetType) == 4 &&
        data_.length() + bytes > std::numeric_limits<int32_t>::max()) {
      return Status::CapacityError(
          "CSV column '", options_.column_name,
          "' holds more than 2 GiB of text in one batch: read it as "
          "large_utf8 or use a smaller batch_rows");
    }
    ARROW_RETURN_NOT_OK(EnsureFirstOffset());
    ARROW_RETURN_NOT_OK(data_.Reserve(bytes));
    ARROW_RETURN_NOT_OK(offsets_.Reserve(n * static_cast<int64_t>(sizeof(OffsetType))));
    validity_.Reserve(n);
    uint8_t* out = data_.mutable_data();
    int64_t pos = data_.length();
    OffsetType* offsets = offsets_.template mutable_data_as<OffsetType>() + length_ + 1;
    uint8_t* valid = validity_.end();
    const bool check_utf8 = utf8_ && !in.ascii;
    const NullMatcher& null_values = *options_.nulls;
    int64_t j = 0;
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (kSkip && in.skip[i]) continue;
      const FieldRef f = fields[i * stride];
      const char* s = data + f.begin;
      const int64_t length = f.length;
      bool ok = true;
      if (!f.quoted && !f.escaped && null_values.Matches(s, length)) {
        ok = false;
      } else {
        const int64_t start = pos;
        if (ARROW_PREDICT_FALSE(f.escaped)) {
          pos += UnescapeField(s, length, f.quoted, options_.quote, options_.escape,
                               reinterpret_cast<char*>(out + pos));
        } else {
          std::memcpy(out + pos, s, static_cast<size_t>(length));
          pos += length;
        }
        if (check_utf8 && !arrow::util::ValidateUTF8(out + start, pos - start)) {
          errors->push_back(ValueError{i, "invalid UTF-8"});
          pos = start;
          ok = false;
        }
      }
      offsets[j] = static_cast<OffsetType>(pos);
      valid[j] = ok ? 1 : 0;
      nulls += ok ? 0 : 1;
      ++j;
    }
    data_.UnsafeAdvance(pos - data_.length());
    offsets_.UnsafeAdvance(j * static_cast<int64_t>(sizeof(OffsetType)));
    validity_.Advance(j, nulls);
    length_ += j;
    return Status::OK();
  }

  std::shared_ptr<arrow::DataType> type_;
  bool utf8_;
  DecoderOptions options_;
  arrow::BufferBuilder offsets_;
  arrow::BufferBuilder data_;
  ValidityBytes validity_;
};

template <typename CType, typename Parser, bool kBits = false>
std::unique_ptr<ColumnDecoder> MakeFixed(const std::shared_ptr<arrow::DataType>& type,
                                         const DecoderOptions& options,
                                         Parser parser = Parser{}) {
  std::string name = type->id() == arrow::Type::DATE32 ? "date32" : type->ToString();
  return std::make_unique<FixedWidthDecoder<CType, Parser, kBits>>(type, std::move(name),
                                                                   options, parser);
}

}  // namespace

Result<std::unique_ptr<ColumnDecoder>> ColumnDecoder::Make(
    const std::shared_ptr<arrow::DataType>& type, const DecoderOptions& options) {
  ARROW_DCHECK(options.nulls != nullptr);
  ARROW_DCHECK(options.pool != nullptr);
  const arrow::TimestampParser* custom = options.timestamp_parser.get();
  switch (type->id()) {
    case arrow::Type::BOOL:
      return MakeFixed<uint8_t, BoolParser, true>(type, options);
    case arrow::Type::INT8:
      return MakeFixed<int8_t, SignedParser<int8_t>>(type, options);
    case arrow::Type::INT16:
      return MakeFixed<int16_t, SignedParser<int16_t>>(type, options);
    case arrow::Type::INT32:
      return MakeFixed<int32_t, SignedParser<int32_t>>(type, options);
    case arrow::Type::INT64:
      return MakeFixed<int64_t, SignedParser<int64_t>>(type, options);
    case arrow::Type::UINT8:
      return MakeFixed<uint8_t, UnsignedParser<uint8_t>>(type, options);
    case arrow::Type::UINT16:
      return MakeFixed<uint16_t, UnsignedParser<uint16_t>>(type, options);
    case arrow::Type::UINT32:
      return MakeFixed<uint32_t, UnsignedParser<uint32_t>>(type, options);
    case arrow::Type::UINT64:
      return MakeFixed<uint64_t, UnsignedParser<uint64_t>>(type, options);
    case arrow::Type::FLOAT:
      return MakeFixed<float, FloatParser>(type, options);
    case arrow::Type::DOUBLE:
      return MakeFixed<double, DoubleParser>(type, options);
    case arrow::Type::DECIMAL128: {
      const auto& decimal = static_cast<const arrow::Decimal128Type&>(*type);
      return MakeFixed<arrow::Decimal128, DecimalParser>(
          type, options, DecimalParser{decimal.precision(), decimal.scale()});
    }
    case arrow::Type::DATE32:
      return MakeFixed<int32_t, Date32Parser>(type, options, Date32Parser{custom});
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampType&>(*type);
      return MakeFixed<int64_t, TimestampParser>(type, options,
                                                 TimestampParser{ts.unit(), custom});
    }
    case arrow::Type::STRING:
      return std::make_unique<StringDecoder<int32_t>>(type, /*utf8=*/true, options);
    case arrow::Type::LARGE_STRING:
      return std::make_unique<StringDecoder<int64_t>>(type, /*utf8=*/true, options);
    case arrow::Type::BINARY:
      return std::make_unique<StringDecoder<int32_t>>(type, /*utf8=*/false, options);
    case arrow::Type::LARGE_BINARY:
      return std::make_unique<StringDecoder<int64_t>>(type, /*utf8=*/false, options);
    default:
      return Status::NotImplemented("column '", options.column_name,
                                    "': cannot read type ", type->ToString(),
                                    " from CSV");
  }
}

}  // namespace sluice::csv
