#pragma once
// Hash aggregation (GROUP BY, DISTINCT, global aggregates): a pipeline breaker.
//
// As a Sink, each worker groups its input into a thread-local key index with its own
// accumulators; FinishLocal hands the local state over and Finalize merges them. A
// worker whose rows hardly repeat a group hands over its table every kSegmentGroups
// groups (when the merge is parallel), so that its table stays small. Many
// groups (at least kParallelMergeGroups over all workers) of decomposable aggregates
// merge in parallel: the keys are split into 2 x threads hash partitions and each
// thread merges whole partitions of every worker's state into a table of its own, then
// builds that partition's result; otherwise the workers' tables merge into the first
// one. As a Source it emits the groups in morsels of batch_rows rows (the partitions
// one after another: group order is unspecified).
// A global aggregate (no keys) has exactly one group, even over empty input.
// Memory: key tables, accumulators and the result are accounted under "HashAggregate".
#include <mutex>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class HashAggregate : public Sink, public Source {
 public:
  /// `input_width`: the number of input columns. Subexpressions the aggregates'
  /// arguments share are computed once per batch (common_subexpressions.h).
  HashAggregate(std::vector<expr::Expr> keys, std::vector<expr::Expr> aggregates,
                std::shared_ptr<arrow::Schema> output_schema, int input_width);

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

  static constexpr int64_t kParallelMergeGroups = 1 << 15;
  /// A worker whose first kDecideRows rows made more than half as many groups sets its
  /// table aside for the merge then, and again every kSegmentGroups groups, starting a
  /// new one each time (MaybeFlush).
  static constexpr int64_t kDecideRows = 1 << 20;
  static constexpr int64_t kSegmentGroups = 1 << 16;

 private:
  Status MaybeFlush(ExecContext* ctx, LocalSinkState* local);
  // How many hash partitions Finalize merges in parallel (1: merge sequentially).
  int MergePartitions(ExecContext* ctx) const;
  Status MergeSequentially(ExecContext* ctx);
  Status MergeInParallel(ExecContext* ctx, int parts);
  // The result batch of one merged local state (keys, then aggregates).
  Result<std::shared_ptr<arrow::RecordBatch>> Assemble(ExecContext* ctx,
                                                       LocalSinkState* local);

  std::vector<expr::Expr> keys_;
  std::vector<expr::Expr> aggregates_;  // arguments over the input ++ shared_
  std::vector<expr::Expr> shared_;      // evaluated in order, appended to each batch
  std::shared_ptr<arrow::Schema> output_schema_;
  std::mutex mu_;
  std::vector<std::unique_ptr<LocalSinkState>> finished_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> results_;
  std::vector<int64_t>
      morsel_start_;  // first morsel of each result batch, then the total
  int64_t batch_rows_ = 65536;
  MemoryReservation result_reservation_;
};

}  // namespace sluice::exec
