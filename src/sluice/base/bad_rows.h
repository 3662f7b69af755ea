#pragma once
// What a source does with input it cannot read (a malformed CSV line, a JSON value of
// the wrong type): the `on_error` policy of a source.
//
//   fail   (default) stop the job; the error names file:line and the reason.
//   skip   drop the row, count it, report the count in the summary.
//   reject drop the row, count it, and append it to a rejects file (JSON lines, one
//          object per bad row: source, line, column, reason, raw).
//
// Counts reconcile: rows read = rows accepted + rows rejected (skipped rows count as
// rejected). A BadRowHandler is shared by all the reader threads of one source and is
// thread-safe.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "sluice/base/status.h"

namespace sluice {

enum class OnError { kFail, kSkip, kReject };

Result<OnError> ParseOnError(const std::string& text);
const char* OnErrorName(OnError policy);

/// One bad row, as reported by a reader.
struct BadRow {
  std::string source;  // file path (or topic:partition)
  int64_t line = 0;    // 1-based line number in the file (or offset)
  std::string column;  // column name, empty when the row as a whole is bad
  std::string reason;  // e.g. "expected 4 fields, found 3", "cannot parse 'x' as date32"
  std::string_view raw;  // the row's raw text
};

/// Where rejected rows go instead of a rejects file (a Kafka dead-letter topic).
class RejectsOutput {
 public:
  virtual ~RejectsOutput() = default;
  /// One rejected row as a JSON object (no newline). Called under the handler's lock.
  virtual Status Write(const std::string& json, const BadRow& row) = 0;
  /// Everything written is delivered.
  virtual Status Close() = 0;
  /// For summaries and messages, e.g. "kafka topic bad-bids".
  virtual std::string Describe() const = 0;
};

class BadRowHandler {
 public:
  /// `rejects_path` is required for kReject (a JSON-lines file created on first use,
  /// written atomically: it appears under its final name when Close() succeeds).
  BadRowHandler(OnError policy, std::string rejects_path = "");
  /// kReject into `output` instead of a file.
  BadRowHandler(OnError policy, std::unique_ptr<RejectsOutput> output);
  ~BadRowHandler();

  OnError policy() const { return policy_; }
  /// The rejects file, or what the output says it is.
  const std::string& rejects_path() const { return rejects_path_; }

  /// Reports a bad row. Returns an error naming the place under kFail; otherwise counts
  /// the row (and writes it under kReject) and returns OK. A row reported again (same
  /// source and line, e.g. when an input is scanned twice) is counted once.
  Status Report(const BadRow& row);

  int64_t rejected() const { return rejected_.load(); }

  /// Flushes and publishes the rejects file (if any row was rejected).
  Status Close();

 private:
  OnError policy_;
  std::string rejects_path_;
  std::string temp_path_;
  std::atomic<int64_t> rejected_{0};
  std::mutex mu_;
  std::set<std::pair<std::string, int64_t>> seen_;
  std::FILE* out_ = nullptr;
  std::unique_ptr<RejectsOutput> output_;
};

/// Formats the place of a bad row for an error message: "path:line: column 'c': reason".
std::string FormatBadRow(const BadRow& row);

}  // namespace sluice
