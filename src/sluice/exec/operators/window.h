#pragma once
// Window functions (plan::WindowNode): a pipeline breaker, sink of its input's
// pipelines and source of the next one.
//
// Contract:
// - Workers collect their input through the memory budget, accounted under "Window"
//   (like Sort); running out of memory fails with an error naming "Window". Finalize
//   needs about twice the input plus a few dozen bytes per row and function.
// - Finalize (once, after every feeding pipeline finished) takes the rows in seq
//   order and hashes them by the PARTITION BY keys (row_encoding.h) into buckets of
//   whole partitions; the number of buckets depends only on the row count, never on
//   the thread count, so results and output order are the same for any --threads.
//   Buckets run on up to ExecContext::threads() workers, in two phases: (1) group the
//   rows by partition (a hash table, then a counting sort) and sort each partition by
//   the ORDER BY keys (the sort operator's order, SortKeyColumn; ties in arrival
//   order), finding the peer groups; then every function argument is taken into this
//   output order once; (2) compute every function, partition by partition.
// - Costs: O(n log n) for the sort; every function is O(n) or O(n log n) whatever the
//   frame: prefix sums and counts (sum/avg of integers and decimals exactly in 128
//   bits, counts), running sums for frames that start at UNBOUNDED PRECEDING or end at
//   UNBOUNDED FOLLOWING and a segment tree otherwise (sum/avg of floating point, which
//   has no exact subtraction), a monotonic deque for min/max, and a forward-moving
//   search for RANGE offsets. All of them rely on frame bounds never moving backwards
//   from one row to the next (checked: an internal error otherwise).
// - Semantics (PostgreSQL's): NULL partition keys form one partition; peers are rows
//   with equal ORDER BY keys (NULLs are peers, NaN equals NaN, -0.0 equals 0.0);
//   aggregates skip NULLs and give NULL on an empty frame (count gives 0); RANGE N
//   PRECEDING/FOLLOWING frames of a row whose key is NULL are its NULL peers, and
//   NULL keys are never within an offset of a non-NULL one. Integer sums outside int64
//   and decimal sums beyond 38 digits fail.
// - Output: one morsel per batch_rows rows, numbered in order (ordered() is true):
//   rows grouped by partition, sorted by the ORDER BY keys within one; the input
//   columns, then one column per function. Produce may run concurrently for
//   different morsels.
#include <memory>
#include <vector>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/operator.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

class WindowSink : public Sink, public Source {
 public:
  /// `output_schema`: the input's columns followed by one per function (the node's
  /// schema); expressions are bound against `input_schema`.
  WindowSink(std::vector<expr::Expr> partition_by, std::vector<plan::SortKey> order_by,
             std::vector<plan::WindowFunction> functions,
             std::shared_ptr<arrow::Schema> input_schema,
             std::shared_ptr<arrow::Schema> output_schema);
  ~WindowSink() override;

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  bool ordered() const override { return true; }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

  struct FunctionResult;  // one function's computed column (window.cc)

 private:
  std::vector<expr::Expr> partition_by_;
  std::vector<plan::SortKey> order_by_;
  std::vector<plan::WindowFunction> functions_;
  std::shared_ptr<arrow::Schema> input_schema_;
  std::shared_ptr<arrow::Schema> output_schema_;
  BatchCollector collected_;
  int64_t batch_rows_ = 65536;
  // Set by Finalize: the input rows, the input row at each output position, and each
  // function's results in output position order.
  std::shared_ptr<arrow::RecordBatch> input_;
  std::shared_ptr<arrow::Array> order_;
  std::vector<std::unique_ptr<FunctionResult>> results_;
};

}  // namespace sluice::exec
