#pragma once
// The late-data sink of a job (`settings: {late_rows: PATH}`, `--late-rows PATH`): every
// row an operator dropped as late, as a JSON line
//   {"operator": "WindowAggregate", "watermark": "2015-07-15 00:00:09.999999",
//    "row": {...the row as that operator saw it...}}
// written to a temporary file and published under PATH atomically when the job has
// finished (an empty file when nothing was late); a failed job publishes nothing.
#include <cstdio>
#include <mutex>
#include <string>

#include "sluice/exec/late_rows.h"

namespace sluice::job {

class LateRowsFile : public exec::LateRowSink {
 public:
  explicit LateRowsFile(std::string path);
  ~LateRowsFile() override;
  Status Write(const std::string& where, int64_t watermark,
               const std::shared_ptr<arrow::RecordBatch>& rows) override;
  /// Creates the temporary file (fails on a bad path); Write does it when not done.
  Status Open();
  /// Publishes the file.
  Status Close();
  const std::string& path() const { return path_; }
  int64_t rows() const { return rows_; }

 private:
  Status OpenLocked();
  std::string path_;
  std::string temp_;
  std::mutex mu_;
  std::FILE* out_ = nullptr;
  int64_t rows_ = 0;
};

}  // namespace sluice::job
