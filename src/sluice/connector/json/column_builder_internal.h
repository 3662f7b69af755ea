#pragma once
// The columns of a batch being read from JSON lines: JSON value -> Arrow type
// conversion and the buffers it writes into. Internal to src/sluice/connector/json/.
//
// Unlike arrow::ArrayBuilder, a ColumnBuilder can be rewound: a line whose third column
// is bad has already appended to the first two, and the reader drops the whole line by
// rewinding every column to the row's start. Buffers are sized once per batch
// (Reserve), so appending a fixed-width value is a store, with no capacity check and no
// allocation; only string data grows, by doubling.
//
// Conversions (explicit schema; `null` is null in every column):
//   bool            true / false
//   int8..int64     integers, range-checked
//   uint8..uint64   integers, range-checked
//   float, double   any number (integers too)
//   decimal128(p,s) numbers and numeric strings, exactly (from the JSON text, never via
//                   double); a value needing more than s decimals or p digits is bad
//   utf8, large_utf8  strings; any other value is stored as its JSON text (numbers as
//                   written, objects and arrays as their text without outer spaces)
//   date32          strings YYYY-MM-DD
//   timestamp(u,tz) ISO 8601 strings (iso8601_internal.h) and integers, taken in unit u.
//                   With a time zone, a string with an offset is converted to UTC and
//                   one without is taken as UTC; without a time zone, a string with an
//                   offset is bad (the wall-clock time would silently change).
//
// Thread-safety: none; owned by one reader.
#include <arrow/buffer.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/base/status.h"

namespace sluice::json::internal {

namespace ondemand = simdjson::ondemand;

/// Reads `value` to its end, checking that all of it is well-formed JSON. The on-demand
/// parser only validates what is read, so every value the reader does not convert (an
/// unknown key, a column not projected) goes through here: whether a line is valid JSON
/// must not depend on the schema or the projection. Nesting deeper than
/// kMaxNestingDepth is an error (DEPTH_ERROR), which also bounds the recursion.
constexpr int kMaxNestingDepth = 1000;
// Depth 0 here (a value of the line's object) is depth 2 for simdjson's iterator, whose
// parser must allow the full depth.
static_assert(kMaxNestingDepth + 2 < simdjson::DEFAULT_MAX_DEPTH);
simdjson::error_code ValidateValue(ondemand::value value, int depth = 0);

/// Removes the spaces simdjson's raw_json_token() leaves after a token.
std::string_view TrimToken(std::string_view token);

enum class AppendResult : uint8_t {
  kOk,
  kInvalidJson,  // the line is not valid JSON (AppendError::json_error)
  kBadValue,     // valid JSON that does not fit the column (AppendError::reason)
  kError,        // not the line's fault: out of memory, batch too large (::status)
};

struct AppendError {
  simdjson::error_code json_error = simdjson::SUCCESS;
  std::string reason;  // "expected int64, found string \"abc\""
  Status status;
};

class ColumnBuilder {
 public:
  /// NotImplemented (naming the column) for a type the reader cannot produce.
  static Result<std::unique_ptr<ColumnBuilder>> Make(const arrow::Field& field,
                                                     arrow::MemoryPool* pool);

  const std::string& name() const { return name_; }
  const std::shared_ptr<arrow::DataType>& type() const { return type_; }
  int64_t length() const { return length_; }

  /// Starts a batch of at most `rows` rows. REQUIRES: no batch in progress.
  Status Reserve(int64_t rows);

  /// Converts and appends `value`, consuming it. `doc` is the document it belongs to
  /// (used to find where an object or array value ends). On anything but kOk nothing
  /// was appended, and `error` says why; the value may be partly consumed.
  /// REQUIRES: length() < the rows given to Reserve().
  AppendResult Append(ondemand::value& value, ondemand::document& doc,
                      AppendError* error);

  /// REQUIRES: length() < the rows given to Reserve().
  void AppendNull();

  /// Drops the rows from `length` on. REQUIRES: length <= this->length().
  void Rewind(int64_t length);

  /// Returns the batch's column and ends the batch.
  Result<std::shared_ptr<arrow::Array>> Finish();

 private:
  enum class Kind : uint8_t {
    kBool,
    kInt,
    kUInt,
    kFloat32,
    kFloat64,
    kDecimal128,
    kUtf8,
    kLargeUtf8,
    kDate32,
    kTimestamp,
  };

  ColumnBuilder(std::shared_ptr<arrow::DataType> type, std::string name,
                arrow::MemoryPool* pool)
      : type_(std::move(type)), name_(std::move(name)), pool_(pool) {}

  AppendResult AppendBool(ondemand::value& value, ondemand::json_type type,
                          AppendError* error);
  AppendResult AppendInteger(ondemand::value& value, ondemand::json_type type,
                             AppendError* error);
  AppendResult AppendFloat(ondemand::value& value, ondemand::json_type type,
                           AppendError* error);
  AppendResult AppendDecimal(ondemand::value& value, ondemand::json_type type,
                             AppendError* error);
  AppendResult AppendString(ondemand::value& value, ondemand::json_type type,
                            ondemand::document& doc, AppendError* error);
  AppendResult AppendDate(ondemand::value& value, ondemand::json_type type,
                          AppendError* error);
  AppendResult AppendTimestamp(ondemand::value& value, ondemand::json_type type,
                               AppendError* error);

  // Error helpers: each fills `error` and returns the matching result.
  AppendResult WrongType(ondemand::value& value, ondemand::json_type type,
                         AppendError* error);
  AppendResult OutOfRange(std::string_view token, AppendError* error);
  AppendResult CannotParse(std::string_view token, AppendError* error);
  /// An integer simdjson would not read: out of range if it is a valid number at all.
  AppendResult BadInteger(ondemand::value& value, std::string_view token,
                          AppendError* error);

  void MarkValid() { arrow::bit_util::SetBit(validity_, length_); }
  void StoreInteger(uint64_t bits);
  AppendResult AppendBytes(std::string_view bytes, AppendError* error);

  std::shared_ptr<arrow::DataType> type_;
  std::string name_;
  arrow::MemoryPool* pool_;
  Kind kind_ = Kind::kBool;
  int byte_width_ = 0;  // fixed-width kinds; the offset width for strings
  int64_t min_ = 0;     // kInt range
  int64_t max_ = 0;
  uint64_t umax_ = 0;  // kUInt range
  int32_t precision_ = 0;
  int32_t scale_ = 0;
  arrow::TimeUnit::type unit_ = arrow::TimeUnit::SECOND;
  bool has_zone_ = false;

  int64_t length_ = 0;
  int64_t capacity_ = 0;  // rows; 0 when no batch is in progress
  std::shared_ptr<arrow::ResizableBuffer> validity_buffer_;
  std::shared_ptr<arrow::ResizableBuffer> values_buffer_;  // values, bits or offsets
  std::shared_ptr<arrow::ResizableBuffer> data_buffer_;    // string bytes
  uint8_t* validity_ = nullptr;
  uint8_t* values_ = nullptr;
  uint8_t* data_ = nullptr;
  int64_t data_length_ = 0;
  int64_t data_capacity_ = 0;
  int64_t last_data_length_ = 0;  // string bytes of the previous batch: the next guess
};

}  // namespace sluice::json::internal
