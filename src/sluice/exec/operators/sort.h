#pragma once
// Sort and top-k (ORDER BY, ORDER BY ... LIMIT k): a pipeline breaker.
//
// Workers collect their input (accounted under "Sort"); Finalize orders all rows by the
// keys — ascending/descending, NULLs first/last per key, NaN after every other number,
// ties kept in arrival order — and emits morsels whose seq follows the order. With a
// limit only the first `limit` rows are produced (partial sort).
#include <mutex>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/operator.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

class SortSink : public Sink, public Source {
 public:
  SortSink(std::vector<plan::SortKey> keys, int64_t limit,
           std::shared_ptr<arrow::Schema> schema);

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  bool ordered() const override { return true; }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  std::vector<plan::SortKey> keys_;
  int64_t limit_;
  std::shared_ptr<arrow::Schema> schema_;
  BatchCollector collected_;
  std::shared_ptr<arrow::RecordBatch> sorted_input_;
  std::shared_ptr<arrow::Int64Array> order_;
  int64_t batch_rows_ = 65536;
};

/// Row order of `batch` by `keys` (evaluated on the batch): the first `limit` row
/// indices (all if limit < 0).
Result<std::vector<int64_t>> SortIndices(const arrow::RecordBatch& batch,
                                         const std::vector<plan::SortKey>& keys,
                                         int64_t limit);

}  // namespace sluice::exec
