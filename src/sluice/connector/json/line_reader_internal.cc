#include "sluice/connector/json/line_reader_internal.h"

#include <algorithm>
#include <cstring>

namespace sluice::json::internal {

namespace {

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

LineReader::LineReader(std::shared_ptr<arrow::io::InputStream> stream, int64_t block_size)
    : stream_(std::move(stream)), block_size_(block_size) {}

LineReader::~LineReader() {
  if (stream_ != nullptr) {
    // Nothing useful can be done with an error closing a stream we only read.
    (void)stream_->Close();
  }
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path,
                                                     Compression compression,
                                                     int64_t block_size) {
  ARROW_ASSIGN_OR_RAISE(auto stream, OpenInputStream(path, compression));
  return FromStream(std::move(stream), block_size);
}

Result<std::unique_ptr<LineReader>> LineReader::FromStream(
    std::shared_ptr<arrow::io::InputStream> stream, int64_t block_size) {
  if (block_size < 1) return Status::Invalid("block size must be positive");
  std::unique_ptr<LineReader> reader(new LineReader(std::move(stream), block_size));
  reader->capacity_ = block_size;
  reader->buffer_.reset(new char[block_size + kPadding]);
  return reader;
}

Status LineReader::Refill() {
  int64_t tail = end_ - begin_;
  if (tail > 0 && begin_ > 0) std::memmove(buffer_.get(), buffer_.get() + begin_, tail);
  begin_ = 0;
  end_ = tail;
  // A line longer than half the buffer: grow, so that each read still brings at least
  // half a block (this keeps reading a very long line linear, not quadratic).
  if (capacity_ - tail < block_size_ / 2 + 1) {
    int64_t new_capacity = std::max(capacity_ * 2, tail + block_size_);
    std::unique_ptr<char[]> bigger(new char[new_capacity + kPadding]);
    std::memcpy(bigger.get(), buffer_.get(), tail);
    buffer_ = std::move(bigger);
    capacity_ = new_capacity;
  }
  ARROW_ASSIGN_OR_RAISE(int64_t n, stream_->Read(capacity_ - tail, buffer_.get() + tail));
  if (n == 0) eof_ = true;
  end_ += n;
  stream_bytes_ += n;
  return Status::OK();
}

Result<bool> LineReader::Next(std::string_view* line) {
  for (;;) {
    const char* start = buffer_.get() + begin_;
    const void* newline =
        begin_ < end_ ? std::memchr(start, '\n', end_ - begin_) : nullptr;
    int64_t length;
    if (newline != nullptr) {
      length = static_cast<const char*>(newline) - start;
      begin_ += length + 1;
    } else if (!eof_) {
      ARROW_RETURN_NOT_OK(Refill());
      continue;
    } else if (begin_ < end_) {
      length = end_ - begin_;
      begin_ = end_;
    } else {
      return false;
    }
    if (++line_number_ == 1 && length >= 3 &&
        std::memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
      start += 3;  // a byte order mark
      length -= 3;
    }
    if (length > 0 && start[length - 1] == '\r') --length;
    std::string_view view(start, static_cast<size_t>(length));
    // Fast path: a JSON line starts with '{'.
    if (length == 0 || (start[0] != '{' && IsBlank(view))) continue;
    *line = view;
    return true;
  }
}

}  // namespace sluice::json::internal
