#pragma once
// Reading JSON-lines files (one JSON object per line) into Arrow record batches.
//
// A file is read sequentially in large blocks (decompressed on the fly for .gz/.zst);
// each line is parsed with simdjson's on-demand parser and its values are written
// straight into the batch's column buffers. See docs/design/json.md for the format
// details and the choices made.
//
// Lines: numbered from 1 as physical lines of the file; blank lines (empty or only
// whitespace) are skipped and are not rows. A trailing '\r' is ignored (CRLF files).
// Each other line is a row, and must be a JSON object:
//   - a key names a column; a missing key gives null; a key that is not in the schema
//     (or whose column is not projected) is ignored, but its value must be valid JSON;
//   - a key given twice: the last value wins;
//   - a line that is not valid JSON, is not an object, or has a value that does not
//     fit its column's type is a bad row, handed to the BadRowHandler (bad_rows.h).
// Conversions into each column type: column_builder_internal.h.
#include <arrow/record_batch.h>
#include <arrow/type.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/base/bad_rows.h"
#include "sluice/base/input_file.h"
#include "sluice/base/status.h"

namespace sluice::json {

namespace internal {
class ColumnBuilder;
class LineReader;
struct Parser;
}  // namespace internal

struct JsonOptions {
  /// Explicit schema; null = infer (InferSchema).
  std::shared_ptr<arrow::Schema> schema;
  /// Types that replace the inferred type of some columns (by name).
  std::map<std::string, std::shared_ptr<arrow::DataType>> column_types;
  /// Lines (non-blank) that InferSchema looks at.
  int64_t infer_rows = 10000;
  /// Maximum rows in a batch returned by JsonReader::Next().
  int64_t batch_rows = 65536;
  Compression compression = Compression::kAuto;
  /// Optional: rewrites where a bad row is before it is reported (a Kafka message's
  /// topic:partition and offset instead of the line of the stream they were joined in).
  std::function<void(BadRow*)> place_bad_row;
};

/// Infers column names and types from the first `options.infer_rows` non-blank lines.
///   - Columns are the keys, in the order first seen.
///   - Numbers: int64 if all are integers (below 2^63), else float64.
///   - true/false: bool.
///   - Strings: date32 if all look like YYYY-MM-DD; timestamp(us) if all are ISO 8601
///     dates or date-times (timestamp(us, "UTC") if any has 'Z' or an offset; a string
///     needing sub-microsecond precision disqualifies); utf8 otherwise.
///   - Nested objects and arrays: utf8 holding each value's JSON text. (The reader
///     stores them that way; typed nested columns may come later, but text keeps every
///     value, whatever its shape, and can be taken apart with JSON functions.)
///   - A key whose values are all null, or whose values mix kinds (number and string,
///     bool and number, ...): utf8 (the reader keeps non-strings as their JSON text).
/// Lines that are not valid JSON objects are ignored. Then `options.column_types`
/// replaces the types of the columns it names; a name not seen in the sample is added as
/// a column at the end. A file with no object in the sample gives a schema with no
/// fields (the caller may look at another file). If `options.schema` is set it is
/// returned as is and the file is not read. Errors: the file cannot be read.
Result<std::shared_ptr<arrow::Schema>> InferSchema(const std::string& path,
                                                   const JsonOptions& options);

/// Reads one JSON-lines file as a sequence of record batches.
///
/// Counts: after each successful Next(), rows_read() == rows returned in batches so far +
/// rows_rejected().
///
/// Thread-safety: a JsonReader is used by one thread at a time. Several readers (on
/// several threads) may share one BadRowHandler.
class JsonReader {
 public:
  /// Opens `path` for reading into `schema`.
  /// `projection`: indices into `schema` of the columns to materialize, in output order
  /// (empty = all). Only `options.batch_rows` and `options.compression` are used here.
  /// `bad_rows` (not owned; must outlive the reader; may be shared) receives each bad
  /// line with its 1-based line number, the column (when one value is at fault) and a
  /// reason: "invalid JSON: <simdjson error>", "not a JSON object (found array)",
  /// "expected int64, found string \"abc\"", "value 300 out of range for int8", ...
  /// A null `bad_rows` behaves as on_error: fail.
  /// Errors: the file cannot be opened (IOError naming it), a projection index out of
  /// range or repeated, a column name repeated in `schema`, a column type the reader
  /// cannot produce (NotImplemented naming the column), batch_rows < 1.
  static Result<std::unique_ptr<JsonReader>> Open(const std::string& path,
                                                  std::shared_ptr<arrow::Schema> schema,
                                                  std::vector<int> projection,
                                                  const JsonOptions& options,
                                                  BadRowHandler* bad_rows);
  /// Like Open, over the lines of `stream` (named `name` in errors), uncompressed.
  static Result<std::unique_ptr<JsonReader>> OpenStream(
      const std::string& name, std::shared_ptr<arrow::io::InputStream> stream,
      std::shared_ptr<arrow::Schema> schema, std::vector<int> projection,
      const JsonOptions& options, BadRowHandler* bad_rows);
  ~JsonReader();

  /// The next batch of at most batch_rows rows (never empty), or nullptr at the end.
  /// Under on_error: fail, a bad line ends reading with an error naming "path:line" and
  /// the reason; so do I/O errors. After an error, Next() returns the same error.
  Result<std::shared_ptr<arrow::RecordBatch>> Next();

  /// The projected schema of the batches.
  std::shared_ptr<arrow::Schema> output_schema() const { return output_schema_; }
  /// Non-blank lines seen so far (good + bad).
  int64_t rows_read() const { return rows_read_; }
  int64_t rows_rejected() const { return rows_rejected_; }
  /// Bytes consumed from disk so far. For a compressed file this is 0 until the end of
  /// the stream is reached and then the file's size: the decompressing stream does not
  /// expose how much of the file it has read.
  int64_t bytes_read() const;

 private:
  JsonReader();
  // Everything of Open but the lines.
  static Result<std::unique_ptr<JsonReader>> Make(const std::string& name,
                                                  std::shared_ptr<arrow::Schema> schema,
                                                  std::vector<int> projection,
                                                  const JsonOptions& options,
                                                  BadRowHandler* bad_rows);

  /// Parses one line into row `row` of the batch. Returns false for a bad line, with
  /// `bad` filled in (every column is then back at `row` rows).
  Result<bool> ReadRow(std::string_view line, int64_t row, BadRow* bad);
  /// Column slot of a key (-1: not materialized) using the key's position in the line
  /// as a hint: lines usually repeat the previous line's key order.
  inline int Lookup(std::string_view key, size_t position);

  std::string path_;
  bool compressed_ = false;
  int64_t file_size_ = 0;
  std::shared_ptr<arrow::Schema> output_schema_;
  int64_t batch_rows_ = 0;
  BadRowHandler* bad_rows_ = nullptr;
  std::function<void(BadRow*)> place_bad_row_;

  std::unique_ptr<internal::LineReader> lines_;
  std::unique_ptr<internal::Parser> parser_;
  std::vector<std::unique_ptr<internal::ColumnBuilder>> columns_;  // output order
  std::vector<std::string> names_;                                 // schema field names
  std::vector<int> slot_of_field_;  // schema field -> output column, -1 if not projected
  std::unordered_map<std::string_view, int> field_of_name_;  // views into names_
  std::vector<int> field_at_position_;  // key position -> schema field of the last line

  int64_t rows_read_ = 0;
  int64_t rows_rejected_ = 0;
  Status status_;  // sticky error
  bool finished_ = false;
};

}  // namespace sluice::json
