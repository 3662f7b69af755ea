#pragma once
// Per-partition top-k: a pipeline breaker that keeps, for every partition (PARTITION
// BY keys; NULL keys form one partition), the first k rows in the order of one ORDER BY
// key, ties in arrival order (batch seq, then row). Put under a window whose functions
// are all row_number() and whose result is filtered to row_number <= k
// (plan::WindowNode::top_per_partition): no other row can pass that filter.
//
// Contract:
// - The order key is an integer (not uint64), date, time, timestamp, duration or
//   floating-point column; it orders as the sort operator does (NULLs first or last as
//   asked, NaN after every number, -0.0 equal to 0.0).
// - Each worker keeps at most k candidates per partition it saw, and copies of the rows
//   that entered its candidates (compacted when more than half are evicted ones);
//   Finalize merges the workers' candidates on one thread. Memory (candidates, rows,
//   the partition key index) is accounted under "PartitionTopK".
// - Output: the kept rows, in no particular order, in morsels of batch_rows rows.
#include <memory>
#include <mutex>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

class PartitionTopK : public Sink, public Source {
 public:
  PartitionTopK(std::vector<expr::Expr> partition_by, plan::SortKey order, int64_t k,
                std::shared_ptr<arrow::Schema> schema);
  ~PartitionTopK() override;

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  int64_t num_morsels() const override { return static_cast<int64_t>(out_.size()); }
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  std::vector<expr::Expr> partition_by_;
  plan::SortKey order_;
  int64_t k_;
  std::shared_ptr<arrow::Schema> schema_;
  std::mutex mu_;
  std::vector<std::unique_ptr<LocalSinkState>> finished_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> out_;
  MemoryReservation out_reservation_;
};

}  // namespace sluice::exec
