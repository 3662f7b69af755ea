#include <arrow/io/compressed.h>

#include <algorithm>
#include <cstring>

#include "sluice/base/input_file.h"
#include "sluice/connector/csv/csv_reader.h"
#include "sluice/connector/csv/csv_record_source_internal.h"

namespace sluice::csv {

namespace {

// Bytes after the data: the '\n' sentinel and what the tokenizer may read beyond it.
constexpr int64_t kPadding = 64;
static_assert(kPadding >= kTokenizerPadding);

bool IsAscii(const char* data, int64_t size) {
  uint64_t acc = 0;
  int64_t i = 0;
  for (; i + 32 <= size; i += 32) {
    uint64_t w[4];
    std::memcpy(w, data + i, 32);
    acc |= w[0] | w[1] | w[2] | w[3];
  }
  for (; i < size; ++i) acc |= static_cast<uint8_t>(data[i]);
  return (acc & 0x8080808080808080ULL) == 0;
}

}  // namespace

RecordSource::RecordSource(std::string path, const CsvOptions& options,
                           int32_t expected_fields)
    : path_(std::move(path)),
      quote_(options.quote),
      escape_(options.escape),
      tokenizer_(options, expected_fields),
      block_bytes_(std::clamp<int64_t>(options.block_bytes, 1, kMaxRecordBytes / 2)) {}

RecordSource::~RecordSource() {
  if (stream_ != nullptr) (void)stream_->Close();
}

Result<std::unique_ptr<RecordSource>> RecordSource::Open(
    const std::string& path, const CsvOptions& options, int32_t expected_fields,
    std::shared_ptr<arrow::io::InputStream> stream) {
  auto is_line_end = [](char c) { return c == '\n' || c == '\r'; };
  if (is_line_end(options.delimiter) || options.delimiter == '\0') {
    return Status::Invalid("CSV delimiter cannot be a line ending or NUL");
  }
  if (is_line_end(options.quote) || is_line_end(options.escape)) {
    return Status::Invalid("CSV quote and escape characters cannot be line endings");
  }
  if (options.quote == options.delimiter || options.escape == options.delimiter ||
      (options.quote != '\0' && options.quote == options.escape)) {
    return Status::Invalid("CSV delimiter, quote and escape characters must differ");
  }
  if (options.batch_rows <= 0) return Status::Invalid("CSV batch_rows must be positive");
  std::unique_ptr<RecordSource> source(new RecordSource(path, options, expected_fields));
  if (stream != nullptr) {
    source->raw_ = stream;
    source->stream_ = std::move(stream);
    return source;
  }
  // The stream is opened raw and decompressed here (not by OpenInputStream) so that
  // bytes_read can report the position in the compressed file.
  ARROW_ASSIGN_OR_RAISE(source->raw_, OpenInputStream(path, Compression::kNone));
  Compression compression = options.compression;
  if (compression == Compression::kAuto) compression = CompressionFromPath(path);
  if (compression == Compression::kNone) {
    source->stream_ = source->raw_;
  } else {
    arrow::Compression::type type = compression == Compression::kGzip
                                        ? arrow::Compression::GZIP
                                        : arrow::Compression::ZSTD;
    ARROW_ASSIGN_OR_RAISE(source->codec_, arrow::util::Codec::Create(type));
    ARROW_ASSIGN_OR_RAISE(source->stream_, arrow::io::CompressedInputStream::Make(
                                               source->codec_.get(), source->raw_));
  }
  return source;
}

Status RecordSource::Refill() {
  const int64_t carry = size_ - pos_;
  if (carry >= kMaxRecordBytes - 1) {
    return Status::Invalid(path_, ":", line_,
                           ": record longer than 1 GiB (an unbalanced quote?)");
  }
  // Read at least as much as is carried over, so that a record longer than a block is
  // re-scanned only O(log) times.
  const int64_t want =
      std::min(std::max(block_bytes_, carry), kMaxRecordBytes - 1 - carry);
  if (carry + want > capacity_) {
    int64_t capacity = std::max(carry + want, capacity_ * 2);
    capacity = std::min(capacity, kMaxRecordBytes);
    std::unique_ptr<char[]> buffer(new char[capacity + kPadding]);
    if (carry > 0) std::memcpy(buffer.get(), buffer_.get() + pos_, carry);
    buffer_ = std::move(buffer);
    capacity_ = capacity;
  } else if (carry > 0 && pos_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + pos_, carry);
  }
  int64_t got = 0;
  while (got < want) {
    auto read = stream_->Read(want - got, buffer_.get() + carry + got);
    if (!read.ok()) {
      return Status::IOError("cannot read '", path_, "': ", read.status().message());
    }
    if (*read == 0) {
      eof_ = true;
      break;
    }
    got += *read;
  }
  pos_ = 0;
  size_ = carry + got;
  buffer_[size_] = '\n';
  if (at_start_) {
    at_start_ = false;
    if (size_ >= 3 && std::memcmp(buffer_.get(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  }
  ascii_ = IsAscii(buffer_.get() + pos_, size_ - pos_);
  auto position = raw_->Tell();
  if (position.ok()) bytes_read_ = *position;
  return Status::OK();
}

Result<bool> RecordSource::ReadHeader(std::vector<std::string>* names) {
  ARROW_DCHECK_EQ(tokenizer_.expected_fields(), 0);
  ParsedBlock block;
  ARROW_ASSIGN_OR_RAISE(bool any, NextSlice(1, &block));
  if (!any) return false;
  if (!block.bad.empty()) {
    return Status::Invalid(path_, ":", block.bad[0].line,
                           ": bad header: ", RecordErrorReason(block.bad[0], 0));
  }
  names->clear();
  std::string name;
  for (const FieldRef& f : block.fields) {
    const char* text = block.data + f.begin;
    if (f.escaped) {
      name.resize(f.length);
      name.resize(static_cast<size_t>(
          UnescapeField(text, f.length, f.quoted, quote_, escape_, name.data())));
    } else {
      name.assign(text, f.length);
    }
    names->push_back(name);
  }
  return true;
}

Result<bool> RecordSource::NextSlice(int64_t max_records, ParsedBlock* out) {
  for (;;) {
    if (pos_ < size_) {
      pos_ += tokenizer_.Parse(buffer_.get() + pos_, size_ - pos_, eof_, max_records,
                               &line_, out);
      if (out->num_records() > 0) return true;
      // Only empty lines, or a record that continues past the buffer.
      ARROW_DCHECK(!eof_ || pos_ == size_);
    }
    if (eof_) {
      out->Clear();
      return false;
    }
    ARROW_RETURN_NOT_OK(Refill());
  }
}

}  // namespace sluice::csv
