#include "sluice/exec/late_rows.h"

#include "sluice/exec/exec_context.h"
#include "sluice/exec/take_rows.h"

namespace sluice::exec {

Status WriteLateRows(ExecContext* ctx, const std::string& where, int64_t watermark,
                     const std::shared_ptr<arrow::RecordBatch>& batch,
                     const std::vector<int32_t>& rows) {
  LateRowSink* sink = ctx->late_rows();
  if (sink == nullptr || rows.empty()) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(
      auto late,
      TakeBatchRows(batch, rows.data(), static_cast<int64_t>(rows.size()), ctx->pool()));
  return sink->Write(where, watermark, late);
}

}  // namespace sluice::exec
