#pragma once
// Splitting a (possibly compressed) file into lines, block by block. Internal to
// src/sluice/connector/json/.
//
// The file is read through OpenInputStream in large blocks into one buffer that is
// reused; lines are found with memchr and handed out as views into that buffer, so a
// line costs no copy and no allocation. A line longer than the buffer grows it.
//
// Thread-safety: none; one LineReader belongs to one reader.
#include <arrow/io/interfaces.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/base/input_file.h"
#include "sluice/base/status.h"

namespace sluice::json::internal {

class LineReader {
 public:
  /// Bytes that may be read past the end of any line handed out (for simdjson, which
  /// needs SIMDJSON_PADDING readable bytes after its input; their content is arbitrary).
  static constexpr int64_t kPadding = 64;
  static constexpr int64_t kDefaultBlockSize = 8 << 20;

  /// Opens `path` (decompressing per `compression`). Errors name the path.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path,
                                                  Compression compression,
                                                  int64_t block_size = kDefaultBlockSize);
  /// Lines of an open stream (e.g. messages joined by newlines).
  static Result<std::unique_ptr<LineReader>> FromStream(
      std::shared_ptr<arrow::io::InputStream> stream,
      int64_t block_size = kDefaultBlockSize);
  ~LineReader();

  /// Moves to the next line that is not blank (blank: empty or only spaces, tabs and
  /// carriage returns). A trailing '\r' is not part of the line; a last line without
  /// '\n' is a line. A UTF-8 byte order mark opening the file is not part of the first
  /// line. Returns false at the end of the input.
  /// The view stays valid, followed by kPadding readable bytes, until the next call.
  Result<bool> Next(std::string_view* line);

  /// 1-based physical line number of the line last returned by Next().
  int64_t line_number() const { return line_number_; }
  /// Bytes taken from the (decompressed) stream so far.
  int64_t stream_bytes() const { return stream_bytes_; }
  bool at_end() const { return eof_ && begin_ == end_; }

 private:
  LineReader(std::shared_ptr<arrow::io::InputStream> stream, int64_t block_size);
  /// Keeps the unfinished tail [begin_, end_), moves it to the front and appends the
  /// next block after it. Sets eof_ when the stream is exhausted.
  Status Refill();

  std::shared_ptr<arrow::io::InputStream> stream_;
  int64_t block_size_;
  std::unique_ptr<char[]> buffer_;
  int64_t capacity_ = 0;  // usable bytes in buffer_ (kPadding more are allocated)
  int64_t begin_ = 0;     // first byte not yet handed out
  int64_t end_ = 0;       // end of the bytes read
  bool eof_ = false;
  int64_t line_number_ = 0;
  int64_t stream_bytes_ = 0;
};

}  // namespace sluice::json::internal
