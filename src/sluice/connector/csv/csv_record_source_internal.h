#pragma once
// Reading a CSV file block by block and cutting it into parsed slices of records.
#include <arrow/io/interfaces.h>
#include <arrow/util/compression.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/connector/csv/csv_tokenizer_internal.h"

namespace sluice::csv {

/// Owns the input stream of one file and a buffer of its (decompressed) bytes. Reads
/// options.block_bytes at a time; the incomplete record at the end of a block is carried
/// over to the next one (a record longer than a block makes the buffer grow). Skips a
/// UTF-8 BOM at the start of the file. Not thread-safe.
class RecordSource {
 public:
  /// Checks `options` (delimiter, quote and escape distinct and not line endings;
  /// positive batch_rows) and opens `path`. `expected_fields` as for CsvTokenizer.
  /// With `stream`, its bytes (already decompressed) instead of the file's; `path`
  /// then only names it in messages.
  static Result<std::unique_ptr<RecordSource>> Open(
      const std::string& path, const CsvOptions& options, int32_t expected_fields,
      std::shared_ptr<arrow::io::InputStream> stream = nullptr);
  ~RecordSource();

  /// Reads the first record as column names into `names` (unescaped). Returns false
  /// when the file has no record. Errors: the first record is malformed.
  /// REQUIRES: nothing read yet, tokenizer expecting any field count.
  Result<bool> ReadHeader(std::vector<std::string>* names);

  /// Parses the next slice of at most `max_records` records (good + bad) into `out`.
  /// Returns false at the end of the file. out->data, and so every field of the slice,
  /// stays valid until the next call.
  Result<bool> NextSlice(int64_t max_records, ParsedBlock* out);

  CsvTokenizer* tokenizer() { return &tokenizer_; }
  /// Whether the buffer of the last slice holds only ASCII bytes (then it is valid
  /// UTF-8).
  bool ascii() const { return ascii_; }
  /// Bytes read from the file on disk (compressed bytes for compressed files).
  int64_t bytes_read() const { return bytes_read_; }
  /// Line number of the next unconsumed byte.
  int64_t line() const { return line_; }

 private:
  RecordSource(std::string path, const CsvOptions& options, int32_t expected_fields);
  Status Refill();

  std::string path_;
  char quote_;
  char escape_;
  CsvTokenizer tokenizer_;
  int64_t block_bytes_;
  std::unique_ptr<arrow::util::Codec> codec_;       // must outlive stream_
  std::shared_ptr<arrow::io::InputStream> raw_;     // the file, for bytes_read
  std::shared_ptr<arrow::io::InputStream> stream_;  // decompressed bytes
  std::unique_ptr<char[]> buffer_;
  int64_t capacity_ = 0;  // of buffer_, without the padding
  int64_t pos_ = 0;       // first unconsumed byte
  int64_t size_ = 0;      // bytes in buffer_; buffer_[size_] == '\n' (tokenizer sentinel)
  int64_t line_ = 1;
  bool eof_ = false;
  bool at_start_ = true;
  bool ascii_ = true;
  int64_t bytes_read_ = 0;
};

}  // namespace sluice::csv
