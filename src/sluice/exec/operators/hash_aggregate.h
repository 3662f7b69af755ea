#pragma once
// Hash aggregation (GROUP BY, DISTINCT, global aggregates): a pipeline breaker.
//
// As a Sink, each worker groups its input into a thread-local KeyTable with its own
// accumulators; FinishLocal hands the local state over and Finalize merges them into
// one table. As a Source it then emits the groups in morsels of batch_rows rows.
// A global aggregate (no keys) has exactly one group, even over empty input.
// Memory: key tables, accumulators and the result are accounted under "HashAggregate".
#include <mutex>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class HashAggregate : public Sink, public Source {
 public:
  HashAggregate(std::vector<expr::Expr> keys, std::vector<expr::Expr> aggregates,
                std::shared_ptr<arrow::Schema> output_schema);

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  std::vector<expr::Expr> keys_;
  std::vector<expr::Expr> aggregates_;
  std::shared_ptr<arrow::Schema> output_schema_;
  std::mutex mu_;
  std::vector<std::unique_ptr<LocalSinkState>> finished_;
  std::shared_ptr<arrow::RecordBatch> result_;
  int64_t batch_rows_ = 65536;
  MemoryReservation result_reservation_;
};

}  // namespace sluice::exec
