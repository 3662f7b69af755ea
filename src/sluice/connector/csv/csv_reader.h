#pragma once
// Reading CSV files into Arrow record batches.
//
// Format accepted (RFC 4180 plus the usual extensions):
// - Records end at "\n" or "\r\n"; the last record may lack a line ending. A lone "\r"
//   is ordinary data. Empty lines are skipped (they are not rows), so a one-column file
//   cannot hold a null as an empty line: write "" (an empty string) instead.
// - A UTF-8 byte order mark at the start of the file is skipped.
// - A field that starts with the quote character is quoted: it may hold delimiters,
//   line endings and doubled quotes (""), and ends at the next single quote, which must
//   be followed by a delimiter or a line ending (anything else makes the row bad). A
//   quote inside an unquoted field is an ordinary character.
// - When `escape` is set, the escape character makes the next character literal, in
//   quoted and unquoted fields (doubled quotes keep working inside quotes too).
//
// Values (see CsvOptions::null_values and the type list on CsvReader::Open):
// - An unquoted field equal to one of `null_values` is null, whatever the column type.
//   A quoted field is never matched against `null_values`; a quoted empty string is ""
//   in string columns and null in all other columns.
// - For non-string columns, spaces and tabs around the value are trimmed, and a field
//   that is empty after trimming is null.
//
// Line numbers (in bad-row reports and errors) are 1-based physical line numbers of the
// first line of the record: the header is line 1, and a quoted field spanning three
// lines moves the next record's number on by three.
#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/bad_rows.h"
#include "sluice/base/input_file.h"
#include "sluice/base/status.h"

namespace sluice::csv {

struct CsvOptions {
  /// The first record holds the column names.
  bool header = true;
  char delimiter = ',';
  /// '\0': no quoting (every quote character is data).
  char quote = '"';
  /// '\0': no escape character (inside quotes, a quote is written doubled: "").
  /// Otherwise e.g. '\\': the next character is taken literally.
  char escape = '\0';
  /// Unquoted fields equal to one of these are null. The default treats only empty
  /// fields as null; CommonNullValues() is a wider list for files written by other
  /// tools (beware: it makes the string "NA", e.g. Namibia's country code, null).
  std::vector<std::string> null_values = {""};
  /// Explicit file schema: names and types, used as is. With `header`, the header only
  /// has to have the same number of fields.
  std::shared_ptr<arrow::Schema> schema;
  /// Column names when there is no header and no `schema` (default column0, column1...).
  std::vector<std::string> column_names;
  /// Replaces the inferred type of the named columns (each name must exist).
  std::map<std::string, std::shared_ptr<arrow::DataType>> column_types;
  /// Number of data rows InferSchema samples.
  int64_t infer_rows = 10000;
  /// Maximum number of rows per batch returned by CsvReader::Next().
  int64_t batch_rows = 65536;
  Compression compression = Compression::kAuto;
  /// strptime-style format (e.g. "%d/%m/%Y %H:%M:%S") for date32 and timestamp columns;
  /// empty: ISO 8601 (see CsvReader::Open).
  std::string timestamp_format;
  /// Bytes read from the file at a time. A record longer than this still works (the
  /// buffer grows), but records must be shorter than 1 GiB.
  int64_t block_bytes = 4 << 20;
  /// Called with each bad row before it is reported (a reader of something other than
  /// a file names its place: a Kafka message's topic:partition and offset).
  std::function<void(BadRow*)> place_bad_row;

  /// {"", "NULL", "null", "NA", "N/A", "NaN", "nan", "-NaN", "#N/A", "None"}.
  static std::vector<std::string> CommonNullValues();
};

/// Samples the first options.infer_rows data rows of `path` and returns the column names
/// and types. Names come from the header, or options.column_names, or are column0,
/// column1, ... (an empty header name becomes column<i>). Types, per column, over the
/// non-null values of the sample:
///   int64      every value is an integer that fits in int64
///   float64    every value is a number (integer, decimal, exponent, inf, nan)
///   bool       every value is true or false (case-insensitive)
///   date32     every value is YYYY-MM-DD
///   timestamp  every value is YYYY-MM-DD or YYYY-MM-DD[T ]HH:MM:SS[.fffffffff], as
///              timestamp(us); when any has a trailing Z or +hh:mm / -hh:mm:
///              timestamp(us, "UTC")
///   utf8       otherwise, and for columns with no non-null value in the sample
/// With options.timestamp_format, values matching it make date32 (format without a time
/// of day) or timestamp(us) (with one; "UTC" when it has %z) columns instead.
/// options.column_types then replaces the types of the named columns. Malformed rows in
/// the sample (wrong field count, bad quoting) are ignored. With options.schema, returns
/// it as is. Errors: the file cannot be read, it is empty (no header), a column_types
/// name is not a column, column_names has the wrong size.
Result<std::shared_ptr<arrow::Schema>> InferSchema(const std::string& path,
                                                   const CsvOptions& options);

class RecordSource;
class ColumnDecoder;
class NullMatcher;
struct ParsedBlock;
struct ValueError;

/// Reads one CSV file as a sequence of record batches.
///
/// Thread-safety: one reader is used by one thread at a time. Different readers (over
/// different files, possibly sharing one BadRowHandler) may run on different threads.
class CsvReader {
 public:
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  /// Opens `path`. `schema` is the full file schema (from InferSchema, or explicit); its
  /// types may be: bool, int8/16/32/64, uint8/16/32/64, float32/64, decimal128(p, s),
  /// utf8, large_utf8, binary, large_binary, date32, timestamp(s/ms/us/ns[, tz]).
  /// Conversion rules:
  ///   integers   optional sign, decimal digits, range-checked for the column type
  ///   floats     [sign]digits[.digits][e[sign]digits], inf, infinity, nan (any case);
  ///              beyond the type's range: +-inf or 0
  ///   decimal    [sign]digits[.digits][e[sign]digits]; more fractional digits than the
  ///              scale are rounded half away from zero; more integer digits than
  ///              precision - scale make the value bad
  ///   bool       true/false (case-insensitive), 1/0
  ///   utf8       must be valid UTF-8 (binary types take any bytes)
  ///   date32     YYYY-MM-DD
  ///   timestamp  YYYY-MM-DD[(T| )HH:MM[:SS[.f...]]][Z|(+|-)HH[:MM]|(+|-)HHMM]; values
  ///              with an offset are converted to UTC; digits beyond the unit are
  ///              truncated; the time zone of the column type is only a label
  /// With options.timestamp_format, date32 and timestamp columns use that format instead.
  ///
  /// `projection`: indices into `schema` of the columns to materialize, in output order
  /// (empty: all). Only projected columns are converted, so a bad value in a column that
  /// is not projected is not noticed; the field count is always checked.
  ///
  /// `bad_rows` (not owned; may be shared across readers and threads; must outlive the
  /// reader) receives every malformed row: wrong field count ("expected 4 fields, found
  /// 3"), a value that does not convert ("cannot parse 'abc' as int64", with the column
  /// name), bad quoting ("unterminated quoted field", "unexpected 'x' after closing
  /// quote"). The row is dropped. Under OnError::kFail the first bad row (in file order)
  /// makes Next() return its error, which names path:line.
  ///
  /// Errors from Open: the file cannot be opened, an unsupported column type, a bad
  /// projection index, a header whose field count differs from the schema.
  static Result<std::unique_ptr<CsvReader>> Open(const std::string& path,
                                                 std::shared_ptr<arrow::Schema> schema,
                                                 std::vector<int> projection,
                                                 const CsvOptions& options,
                                                 BadRowHandler* bad_rows);

  /// Reads the bytes of `stream` (already decompressed; `name` in messages) instead of
  /// a file; otherwise as Open.
  static Result<std::unique_ptr<CsvReader>> OpenStream(
      const std::string& name, std::shared_ptr<arrow::io::InputStream> stream,
      std::shared_ptr<arrow::Schema> schema, std::vector<int> projection,
      const CsvOptions& options, BadRowHandler* bad_rows);

  /// The next batch of up to options.batch_rows good rows (exactly batch_rows except at
  /// the end of the file); nullptr at the end of the file. After an error, every later
  /// call returns the same error.
  Result<std::shared_ptr<arrow::RecordBatch>> Next();

  std::shared_ptr<arrow::Schema> output_schema() const { return output_schema_; }
  /// Data rows seen so far, good and bad (the header and empty lines excluded). After
  /// each Next(): rows_read() == rows returned so far + rows_rejected().
  int64_t rows_read() const { return rows_read_; }
  /// Bad rows of this file so far.
  int64_t rows_rejected() const { return rows_rejected_; }
  /// Bytes consumed from disk so far (compressed bytes for compressed files), for
  /// progress reporting.
  int64_t bytes_read() const;

 private:
  CsvReader();
  Status Init(const std::string& path, std::shared_ptr<arrow::Schema> schema,
              std::vector<int> projection, const CsvOptions& options,
              BadRowHandler* bad_rows,
              std::shared_ptr<arrow::io::InputStream> stream = nullptr);
  Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch();
  // Decodes one parsed slice into the column decoders and reports its bad rows;
  // returns the number of good rows appended.
  Result<int64_t> DecodeSlice();

  std::string path_;
  CsvOptions options_;
  std::shared_ptr<arrow::Schema> schema_;
  std::shared_ptr<arrow::Schema> output_schema_;
  std::vector<int> projection_;
  BadRowHandler* bad_rows_ = nullptr;
  std::unique_ptr<NullMatcher> null_values_;
  std::unique_ptr<RecordSource> source_;
  std::unique_ptr<ParsedBlock> block_;                    // the current slice
  std::vector<std::unique_ptr<ColumnDecoder>> decoders_;  // one per output column
  std::vector<std::vector<ValueError>> value_errors_;     // per output column, this slice
  std::vector<uint8_t> skip_;  // per record of the current slice: 1 = leave out
  Status status_;              // sticky error
  bool finished_ = false;
  int64_t rows_read_ = 0;
  int64_t rows_rejected_ = 0;
};

}  // namespace sluice::csv
