#pragma once
// Converting one column of parsed CSV records into an Arrow array.
#include <arrow/type_fwd.h>
#include <arrow/util/value_parsing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/connector/csv/csv_tokenizer_internal.h"
#include "sluice/connector/csv/csv_value_parsing_internal.h"

namespace sluice::csv {

struct DecoderOptions {
  std::string column_name;             // for errors
  const NullMatcher* nulls = nullptr;  // not owned
  char quote = '"';
  char escape = '\0';
  /// strptime-style parser for date32/timestamp columns; null: ISO 8601.
  std::shared_ptr<arrow::TimestampParser> timestamp_parser;
  arrow::MemoryPool* pool = nullptr;
};

struct DecodeInput {
  const ParsedBlock* block = nullptr;
  int32_t stride = 0;  // fields per record: record i's fields start at i * stride
  int32_t column = 0;  // index of this column's field within a record
  const uint8_t* skip = nullptr;  // per record, nonzero: leave out; null: none
  bool ascii = false;             // the block is all ASCII (so valid UTF-8)
};

/// A value that does not convert: block record index and reason.
struct ValueError {
  int64_t record;
  std::string reason;
};

/// Accumulates the values of one column over the slices of a batch. A value that does
/// not convert is appended as null and reported, so that the caller can Truncate() and
/// decode the slice again without the bad records.
class ColumnDecoder {
 public:
  virtual ~ColumnDecoder() = default;

  /// The type must be one of those listed at CsvReader::Open (else NotImplemented).
  static Result<std::unique_ptr<ColumnDecoder>> Make(
      const std::shared_ptr<arrow::DataType>& type, const DecoderOptions& options);

  /// Appends field `in.column` of each record of `in.block` that is not skipped.
  /// Appends to `errors` (in record order) the values that do not convert.
  virtual Status Decode(const DecodeInput& in, std::vector<ValueError>* errors) = 0;
  /// Values appended since the last Finish().
  int64_t length() const { return length_; }
  /// Drops the values after the first `length`. REQUIRES: length <= this->length().
  virtual void Truncate(int64_t length) = 0;
  /// Returns the values appended since the last Finish() and starts over.
  virtual Result<std::shared_ptr<arrow::Array>> Finish() = 0;

 protected:
  int64_t length_ = 0;
};

/// "cannot parse '<text>' as <type>" (+ ": out of range"); long text is cut short.
std::string CannotParseReason(const char* text, int64_t length,
                              const std::string& type_name, ParseStatus status);

}  // namespace sluice::csv
