#include "sluice/connector/json/column_builder_internal.h"

#include <arrow/array/data.h>
#include <arrow/array/util.h>
#include <arrow/util/bitmap_ops.h>
#include <arrow/util/decimal.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "sluice/connector/json/iso8601_internal.h"

namespace sluice::json::internal {

using ondemand::json_type;

namespace {

// simdjson reports a malformed atom read with get_bool()/is_null() as INCORRECT_TYPE,
// which would read as a type mismatch in a bad-row reason: name the atom instead.
simdjson::error_code AtomError(std::string_view token) {
  if (!token.empty() && token[0] == 't') return simdjson::T_ATOM_ERROR;
  if (!token.empty() && token[0] == 'f') return simdjson::F_ATOM_ERROR;
  return simdjson::N_ATOM_ERROR;
}

simdjson::error_code ValidateScalar(ondemand::value& value, json_type type) {
  switch (type) {
    case json_type::number: {
      double d;
      return value.get_double().get(d) ? simdjson::NUMBER_ERROR : simdjson::SUCCESS;
    }
    case json_type::string: {
      std::string_view s;
      return value.get_string().get(s);
    }
    case json_type::boolean: {
      std::string_view token = value.raw_json_token();
      bool b;
      return value.get_bool().get(b) ? AtomError(token) : simdjson::SUCCESS;
    }
    case json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) || !is_null) return simdjson::N_ATOM_ERROR;
      return simdjson::SUCCESS;
    }
    default:
      return simdjson::TAPE_ERROR;
  }
}

// Shortens a token quoted in a reason, without cutting a UTF-8 sequence.
std::string Quote(std::string_view token) {
  constexpr size_t kMax = 64;
  if (token.size() <= kMax) return std::string(token);
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(token[n]) & 0xC0) == 0x80) --n;
  return std::string(token.substr(0, n)) + "...";
}

const char* JsonTypeName(json_type type) {
  switch (type) {
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::boolean:
      return "boolean";
    case json_type::null:
      return "null";
  }
  return "value";
}

Result<std::shared_ptr<arrow::ResizableBuffer>> AllocateZeroed(int64_t size,
                                                               arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(std::unique_ptr<arrow::ResizableBuffer> buffer,
                        arrow::AllocateResizableBuffer(size, pool));
  std::memset(buffer->mutable_data(), 0, static_cast<size_t>(size));
  return std::shared_ptr<arrow::ResizableBuffer>(std::move(buffer));
}

// Sets the final size of a buffer handed to an array; gives memory back only when much
// of it is unused (shrinking reallocates).
Status Trim(arrow::ResizableBuffer* buffer, int64_t size) {
  return buffer->Resize(size, /*shrink_to_fit=*/size < buffer->capacity() / 4 * 3);
}

// Clears the bits from `length` to the end of its byte: rewound rows may have left
// them set, and Arrow consumers may read whole bytes.
void ClearTrailingBits(uint8_t* bits, int64_t length) {
  if (length % 8 != 0) bits[length / 8] &= static_cast<uint8_t>((1u << (length % 8)) - 1);
}

}  // namespace

std::string_view TrimToken(std::string_view token) {
  while (!token.empty()) {
    char c = token.back();
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    token.remove_suffix(1);
  }
  return token;
}

simdjson::error_code ValidateValue(ondemand::value value, int depth) {
  json_type type;
  if (auto e = value.type().get(type)) return e;
  if ((type == json_type::object || type == json_type::array) &&
      depth >= kMaxNestingDepth) {
    return simdjson::DEPTH_ERROR;
  }
  if (type == json_type::object) {
    ondemand::object object;
    if (auto e = value.get_object().get(object)) return e;
    for (auto field_result : object) {
      ondemand::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      if (auto e = ValidateValue(field.value(), depth + 1)) return e;
    }
    return simdjson::SUCCESS;
  }
  if (type == json_type::array) {
    ondemand::array array;
    if (auto e = value.get_array().get(array)) return e;
    for (auto element_result : array) {
      ondemand::value element;
      if (auto e = std::move(element_result).get(element)) return e;
      if (auto e = ValidateValue(element, depth + 1)) return e;
    }
    return simdjson::SUCCESS;
  }
  return ValidateScalar(value, type);
}

Result<std::unique_ptr<ColumnBuilder>> ColumnBuilder::Make(const arrow::Field& field,
                                                           arrow::MemoryPool* pool) {
  std::unique_ptr<ColumnBuilder> b(new ColumnBuilder(field.type(), field.name(), pool));
  auto set_int = [&](int width, int64_t min, int64_t max) {
    b->kind_ = Kind::kInt;
    b->byte_width_ = width;
    b->min_ = min;
    b->max_ = max;
  };
  auto set_uint = [&](int width, uint64_t max) {
    b->kind_ = Kind::kUInt;
    b->byte_width_ = width;
    b->umax_ = max;
  };
  switch (field.type()->id()) {
    case arrow::Type::BOOL:
      b->kind_ = Kind::kBool;
      break;
    case arrow::Type::INT8:
      set_int(1, INT8_MIN, INT8_MAX);
      break;
    case arrow::Type::INT16:
      set_int(2, INT16_MIN, INT16_MAX);
      break;
    case arrow::Type::INT32:
      set_int(4, INT32_MIN, INT32_MAX);
      break;
    case arrow::Type::INT64:
      set_int(8, INT64_MIN, INT64_MAX);
      break;
    case arrow::Type::UINT8:
      set_uint(1, UINT8_MAX);
      break;
    case arrow::Type::UINT16:
      set_uint(2, UINT16_MAX);
      break;
    case arrow::Type::UINT32:
      set_uint(4, UINT32_MAX);
      break;
    case arrow::Type::UINT64:
      set_uint(8, UINT64_MAX);
      break;
    case arrow::Type::FLOAT:
      b->kind_ = Kind::kFloat32;
      b->byte_width_ = 4;
      break;
    case arrow::Type::DOUBLE:
      b->kind_ = Kind::kFloat64;
      b->byte_width_ = 8;
      break;
    case arrow::Type::DECIMAL128: {
      const auto& t = static_cast<const arrow::Decimal128Type&>(*field.type());
      b->kind_ = Kind::kDecimal128;
      b->byte_width_ = 16;
      b->precision_ = t.precision();
      b->scale_ = t.scale();
      break;
    }
    case arrow::Type::STRING:
      b->kind_ = Kind::kUtf8;
      b->byte_width_ = 4;
      break;
    case arrow::Type::LARGE_STRING:
      b->kind_ = Kind::kLargeUtf8;
      b->byte_width_ = 8;
      break;
    case arrow::Type::DATE32:
      b->kind_ = Kind::kDate32;
      b->byte_width_ = 4;
      break;
    case arrow::Type::TIMESTAMP: {
      const auto& t = static_cast<const arrow::TimestampType&>(*field.type());
      b->kind_ = Kind::kTimestamp;
      b->byte_width_ = 8;
      b->unit_ = t.unit();
      b->has_zone_ = !t.timezone().empty();
      break;
    }
    default:
      return Status::NotImplemented("JSON reader: column '", field.name(), "' has type ",
                                    field.type()->ToString(),
                                    ", which JSON lines cannot be read into");
  }
  return b;
}

Status ColumnBuilder::Reserve(int64_t rows) {
  ARROW_DCHECK_EQ(capacity_, 0) << "Reserve() during a batch";
  const int64_t bitmap_bytes = arrow::bit_util::BytesForBits(rows);
  ARROW_ASSIGN_OR_RAISE(validity_buffer_, AllocateZeroed(bitmap_bytes, pool_));
  validity_ = validity_buffer_->mutable_data();
  switch (kind_) {
    case Kind::kBool: {
      ARROW_ASSIGN_OR_RAISE(values_buffer_, AllocateZeroed(bitmap_bytes, pool_));
      break;
    }
    case Kind::kUtf8:
    case Kind::kLargeUtf8: {
      ARROW_ASSIGN_OR_RAISE(values_buffer_,
                            AllocateZeroed((rows + 1) * byte_width_, pool_));
      // A guess from the previous batch (plus a margin), else 16 bytes a row.
      data_capacity_ =
          std::max<int64_t>(last_data_length_ + last_data_length_ / 8, rows * 16);
      ARROW_ASSIGN_OR_RAISE(std::unique_ptr<arrow::ResizableBuffer> data,
                            arrow::AllocateResizableBuffer(data_capacity_, pool_));
      data_buffer_ = std::move(data);
      data_ = data_buffer_->mutable_data();
      data_length_ = 0;
      break;
    }
    default: {
      ARROW_ASSIGN_OR_RAISE(std::unique_ptr<arrow::ResizableBuffer> values,
                            arrow::AllocateResizableBuffer(rows * byte_width_, pool_));
      values_buffer_ = std::move(values);
      break;
    }
  }
  values_ = values_buffer_->mutable_data();
  length_ = 0;
  capacity_ = rows;
  return Status::OK();
}

void ColumnBuilder::AppendNull() {
  ARROW_DCHECK_LT(length_, capacity_);
  arrow::bit_util::ClearBit(validity_, length_);
  switch (kind_) {
    case Kind::kBool:
      arrow::bit_util::ClearBit(values_, length_);
      break;
    case Kind::kUtf8:
      reinterpret_cast<int32_t*>(values_)[length_ + 1] =
          static_cast<int32_t>(data_length_);
      break;
    case Kind::kLargeUtf8:
      reinterpret_cast<int64_t*>(values_)[length_ + 1] = data_length_;
      break;
    default:
      // Deterministic bytes under nulls (Arrow leaves them undefined; tests compare).
      std::memset(values_ + length_ * byte_width_, 0, byte_width_);
      break;
  }
  ++length_;
}

void ColumnBuilder::Rewind(int64_t length) {
  ARROW_DCHECK_LE(length, length_);
  length_ = length;
  if (kind_ == Kind::kUtf8) {
    data_length_ = reinterpret_cast<const int32_t*>(values_)[length];
  } else if (kind_ == Kind::kLargeUtf8) {
    data_length_ = reinterpret_cast<const int64_t*>(values_)[length];
  }
}

Result<std::shared_ptr<arrow::Array>> ColumnBuilder::Finish() {
  const int64_t length = length_;
  const int64_t bitmap_bytes = arrow::bit_util::BytesForBits(length);
  ClearTrailingBits(validity_, length);
  const int64_t null_count = length - arrow::internal::CountSetBits(validity_, 0, length);
  std::shared_ptr<arrow::Buffer> validity;
  if (null_count > 0) {
    ARROW_RETURN_NOT_OK(Trim(validity_buffer_.get(), bitmap_bytes));
    validity = std::move(validity_buffer_);
  }
  std::vector<std::shared_ptr<arrow::Buffer>> buffers = {validity, nullptr};
  switch (kind_) {
    case Kind::kBool:
      ClearTrailingBits(values_, length);
      ARROW_RETURN_NOT_OK(Trim(values_buffer_.get(), bitmap_bytes));
      break;
    case Kind::kUtf8:
    case Kind::kLargeUtf8:
      ARROW_RETURN_NOT_OK(Trim(values_buffer_.get(), (length + 1) * byte_width_));
      ARROW_RETURN_NOT_OK(Trim(data_buffer_.get(), data_length_));
      buffers.push_back(std::move(data_buffer_));
      last_data_length_ = data_length_;
      break;
    default:
      ARROW_RETURN_NOT_OK(Trim(values_buffer_.get(), length * byte_width_));
      break;
  }
  buffers[1] = std::move(values_buffer_);
  validity_buffer_.reset();
  data_buffer_.reset();
  validity_ = values_ = data_ = nullptr;
  length_ = capacity_ = 0;
  data_length_ = data_capacity_ = 0;
  return arrow::MakeArray(
      arrow::ArrayData::Make(type_, length, std::move(buffers), null_count));
}

// ---------------------------------------------------------------------------------
// Conversion

AppendResult ColumnBuilder::Append(ondemand::value& value, ondemand::document& doc,
                                   AppendError* error) {
  ARROW_DCHECK_LT(length_, capacity_);
  json_type type;
  if (auto e = value.type().get(type)) {
    error->json_error = e;
    return AppendResult::kInvalidJson;
  }
  if (type == json_type::null) {
    if (auto e = ValidateScalar(value, type)) {
      error->json_error = e;
      return AppendResult::kInvalidJson;
    }
    AppendNull();
    return AppendResult::kOk;
  }
  switch (kind_) {
    case Kind::kBool:
      return AppendBool(value, type, error);
    case Kind::kInt:
    case Kind::kUInt:
      return AppendInteger(value, type, error);
    case Kind::kFloat32:
    case Kind::kFloat64:
      return AppendFloat(value, type, error);
    case Kind::kDecimal128:
      return AppendDecimal(value, type, error);
    case Kind::kUtf8:
    case Kind::kLargeUtf8:
      return AppendString(value, type, doc, error);
    case Kind::kDate32:
      return AppendDate(value, type, error);
    case Kind::kTimestamp:
      return AppendTimestamp(value, type, error);
  }
  return AppendResult::kError;
}

AppendResult ColumnBuilder::AppendBool(ondemand::value& value, json_type type,
                                       AppendError* error) {
  if (type != json_type::boolean) return WrongType(value, type, error);
  std::string_view token = value.raw_json_token();
  bool b;
  if (value.get_bool().get(b)) {
    error->json_error = AtomError(token);
    return AppendResult::kInvalidJson;
  }
  arrow::bit_util::SetBitTo(values_, length_, b);
  MarkValid();
  ++length_;
  return AppendResult::kOk;
}

void ColumnBuilder::StoreInteger(uint64_t bits) {
  // Two's complement truncation: the value was range-checked against the column type.
  uint8_t* slot = values_ + length_ * byte_width_;
  switch (byte_width_) {
    case 1: {
      uint8_t v = static_cast<uint8_t>(bits);
      std::memcpy(slot, &v, 1);
      break;
    }
    case 2: {
      uint16_t v = static_cast<uint16_t>(bits);
      std::memcpy(slot, &v, 2);
      break;
    }
    case 4: {
      uint32_t v = static_cast<uint32_t>(bits);
      std::memcpy(slot, &v, 4);
      break;
    }
    default:
      std::memcpy(slot, &bits, 8);
      break;
  }
  MarkValid();
  ++length_;
}

AppendResult ColumnBuilder::BadInteger(ondemand::value& value, std::string_view token,
                                       AppendError* error) {
  double d;
  if (value.get_double().get(d)) {
    error->json_error = simdjson::NUMBER_ERROR;
    return AppendResult::kInvalidJson;
  }
  return OutOfRange(token, error);
}

AppendResult ColumnBuilder::AppendInteger(ondemand::value& value, json_type type,
                                          AppendError* error) {
  if (type != json_type::number) return WrongType(value, type, error);
  // Fast path: an integer below 2^63 in magnitude. raw_json_token() stays valid after
  // the value is read, so the error paths can still quote it.
  int64_t v;
  if (value.get_int64().get(v) == simdjson::SUCCESS) {
    if (kind_ == Kind::kInt) {
      if (v < min_ || v > max_)
        return OutOfRange(TrimToken(value.raw_json_token()), error);
    } else if (v < 0 || static_cast<uint64_t>(v) > umax_) {
      return OutOfRange(TrimToken(value.raw_json_token()), error);
    }
    StoreInteger(static_cast<uint64_t>(v));
    return AppendResult::kOk;
  }
  std::string_view token = TrimToken(value.raw_json_token());
  ondemand::number_type number_type;
  if (value.get_number_type().get(number_type)) {
    error->json_error = simdjson::NUMBER_ERROR;
    return AppendResult::kInvalidJson;
  }
  if (number_type == ondemand::number_type::floating_point_number) {
    return WrongType(value, type, error);
  }
  // At least 2^63 (or malformed): only a uint64 column can hold it.
  uint64_t u;
  if (kind_ == Kind::kInt || number_type != ondemand::number_type::unsigned_integer ||
      value.get_uint64().get(u)) {
    return BadInteger(value, token, error);
  }
  if (u > umax_) return OutOfRange(token, error);
  StoreInteger(u);
  return AppendResult::kOk;
}

AppendResult ColumnBuilder::AppendFloat(ondemand::value& value, json_type type,
                                        AppendError* error) {
  if (type != json_type::number) return WrongType(value, type, error);
  double d;
  if (value.get_double().get(d)) {
    error->json_error = simdjson::NUMBER_ERROR;
    return AppendResult::kInvalidJson;
  }
  uint8_t* slot = values_ + length_ * byte_width_;
  if (kind_ == Kind::kFloat32) {
    float f = static_cast<float>(d);
    if (std::isinf(f)) return OutOfRange(TrimToken(value.raw_json_token()), error);
    std::memcpy(slot, &f, 4);
  } else {
    std::memcpy(slot, &d, 8);
  }
  MarkValid();
  ++length_;
  return AppendResult::kOk;
}

AppendResult ColumnBuilder::AppendDecimal(ondemand::value& value, json_type type,
                                          AppendError* error) {
  std::string_view text;
  std::string_view token = TrimToken(value.raw_json_token());
  if (type == json_type::number) {
    double d;  // only to validate the number's syntax; the value comes from its text
    if (value.get_double().get(d)) {
      error->json_error = simdjson::NUMBER_ERROR;
      return AppendResult::kInvalidJson;
    }
    text = token;
  } else if (type == json_type::string) {
    if (auto e = value.get_string().get(text)) {
      error->json_error = e;
      return AppendResult::kInvalidJson;
    }
  } else {
    return WrongType(value, type, error);
  }
  arrow::Decimal128 decimal;
  int32_t precision = 0;
  int32_t scale = 0;
  if (!arrow::Decimal128::FromString(text, &decimal, &precision, &scale).ok()) {
    return CannotParse(token, error);
  }
  if (scale != scale_) {
    // Fails when digits would be lost (1.234 into scale 2) or on overflow.
    auto rescaled = decimal.Rescale(scale, scale_);
    if (!rescaled.ok()) {
      error->reason = "value " + Quote(token) + " does not fit " + type_->ToString();
      return AppendResult::kBadValue;
    }
    decimal = *rescaled;
  }
  if (!decimal.FitsInPrecision(precision_)) {
    error->reason = "value " + Quote(token) + " does not fit " + type_->ToString();
    return AppendResult::kBadValue;
  }
  decimal.ToBytes(values_ + length_ * 16);
  MarkValid();
  ++length_;
  return AppendResult::kOk;
}

AppendResult ColumnBuilder::AppendBytes(std::string_view bytes, AppendError* error) {
  const int64_t n = static_cast<int64_t>(bytes.size());
  if (data_length_ + n > data_capacity_) {
    if (kind_ == Kind::kUtf8 && data_length_ + n > std::numeric_limits<int32_t>::max()) {
      error->status = Status::CapacityError("JSON reader: column '", name_,
                                            "' holds more than 2 GiB of text in one "
                                            "batch; lower batch_rows or use large_utf8");
      return AppendResult::kError;
    }
    int64_t new_capacity = std::max(data_capacity_ * 2, data_length_ + n);
    Status st = data_buffer_->Resize(new_capacity, /*shrink_to_fit=*/false);
    if (!st.ok()) {
      error->status = std::move(st);
      return AppendResult::kError;
    }
    data_ = data_buffer_->mutable_data();
    data_capacity_ = new_capacity;
  }
  if (n > 0) std::memcpy(data_ + data_length_, bytes.data(), bytes.size());
  data_length_ += n;
  if (kind_ == Kind::kUtf8) {
    reinterpret_cast<int32_t*>(values_)[length_ + 1] = static_cast<int32_t>(data_length_);
  } else {
    reinterpret_cast<int64_t*>(values_)[length_ + 1] = data_length_;
  }
  MarkValid();
  ++length_;
  return AppendResult::kOk;
}

AppendResult ColumnBuilder::AppendString(ondemand::value& value, json_type type,
                                         ondemand::document& doc, AppendError* error) {
  if (type == json_type::string) {
    std::string_view s;
    if (auto e = value.get_string().get(s)) {
      error->json_error = e;
      return AppendResult::kInvalidJson;
    }
    return AppendBytes(s, error);
  }
  std::string_view token = value.raw_json_token();
  if (type == json_type::object || type == json_type::array) {
    // The text runs from the opening bracket to the token after the value (the ',' or
    // '}' of the enclosing object), less the spaces before that token.
    const char* start = token.data();
    if (auto e = ValidateValue(value)) {
      error->json_error = e;
      return AppendResult::kInvalidJson;
    }
    const char* end;
    if (auto e = doc.current_location().get(end)) {
      error->json_error = e;
      return AppendResult::kInvalidJson;
    }
    return AppendBytes(
        TrimToken(std::string_view(start, static_cast<size_t>(end - start))), error);
  }
  if (auto e = ValidateScalar(value, type)) {
    error->json_error = e;
    return AppendResult::kInvalidJson;
  }
  return AppendBytes(TrimToken(token), error);
}

AppendResult ColumnBuilder::AppendDate(ondemand::value& value, json_type type,
                                       AppendError* error) {
  if (type != json_type::string) return WrongType(value, type, error);
  std::string_view token = TrimToken(value.raw_json_token());
  std::string_view s;
  if (auto e = value.get_string().get(s)) {
    error->json_error = e;
    return AppendResult::kInvalidJson;
  }
  int32_t days;
  if (!ParseDate32(s, &days)) return CannotParse(token, error);
  std::memcpy(values_ + length_ * 4, &days, 4);
  MarkValid();
  ++length_;
  return AppendResult::kOk;
}

AppendResult ColumnBuilder::AppendTimestamp(ondemand::value& value, json_type type,
                                            AppendError* error) {
  std::string_view token = TrimToken(value.raw_json_token());
  int64_t v;
  if (type == json_type::number) {
    if (value.get_int64().get(v)) {
      ondemand::number_type number_type;
      if (value.get_number_type().get(number_type)) {
        error->json_error = simdjson::NUMBER_ERROR;
        return AppendResult::kInvalidJson;
      }
      if (number_type == ondemand::number_type::floating_point_number) {
        return WrongType(value, type, error);
      }
      return BadInteger(value, token, error);
    }
  } else if (type == json_type::string) {
    std::string_view s;
    if (auto e = value.get_string().get(s)) {
      error->json_error = e;
      return AppendResult::kInvalidJson;
    }
    ParsedTimestamp ts;
    if (!ParseTimestamp(s, &ts)) return CannotParse(token, error);
    if (ts.has_zone && !has_zone_) {
      error->reason = "timestamp " + Quote(token) +
                      " has a UTC offset, but column type " + type_->ToString() +
                      " has no time zone";
      return AppendResult::kBadValue;
    }
    if (!TimestampToUnit(ts, unit_, &v)) return OutOfRange(token, error);
  } else {
    return WrongType(value, type, error);
  }
  std::memcpy(values_ + length_ * 8, &v, 8);
  MarkValid();
  ++length_;
  return AppendResult::kOk;
}

// ---------------------------------------------------------------------------------
// Errors

AppendResult ColumnBuilder::WrongType(ondemand::value& value, json_type type,
                                      AppendError* error) {
  // A malformed value is reported as invalid JSON, not as a type mismatch.
  std::string_view token = TrimToken(value.raw_json_token());
  if (auto e = ValidateValue(value)) {
    error->json_error = e;
    return AppendResult::kInvalidJson;
  }
  error->reason = "expected " + type_->ToString() + ", found " + JsonTypeName(type);
  if (type != json_type::object && type != json_type::array) {
    error->reason += " " + Quote(token);
  }
  return AppendResult::kBadValue;
}

AppendResult ColumnBuilder::OutOfRange(std::string_view token, AppendError* error) {
  error->reason = "value " + Quote(token) + " out of range for " + type_->ToString();
  return AppendResult::kBadValue;
}

AppendResult ColumnBuilder::CannotParse(std::string_view token, AppendError* error) {
  error->reason = "cannot parse " + Quote(token) + " as " + type_->ToString();
  return AppendResult::kBadValue;
}

}  // namespace sluice::json::internal
