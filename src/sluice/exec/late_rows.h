#pragma once
// Where rows that arrive too late go (docs/design/streams.md, "Late rows"): operators
// that drop late rows (the aggregate over windows, stream joins) count them
// (Progress::rows_late) and, when the job names a late-data sink, hand them to it as
// they saw them, with the watermark that made them late.
#include <arrow/record_batch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::exec {

class ExecContext;

/// The job's late-data sink. Thread-safe: workers write concurrently.
class LateRowSink {
 public:
  virtual ~LateRowSink() = default;
  /// `rows` dropped by operator `where` when its watermark was `watermark` (event time
  /// in microseconds since the epoch).
  virtual Status Write(const std::string& where, int64_t watermark,
                       const std::shared_ptr<arrow::RecordBatch>& rows) = 0;
};

/// Rows `rows` of `batch` to the context's late-data sink, if it has one (the caller
/// counts them).
Status WriteLateRows(ExecContext* ctx, const std::string& where, int64_t watermark,
                     const std::shared_ptr<arrow::RecordBatch>& batch,
                     const std::vector<int32_t>& rows);

}  // namespace sluice::exec
