#pragma once
// Spool: the rows of a subtree that a plan reads twice (the same join under a join and
// under the aggregate that a rewrite restricted by it: TPC-H Q2), kept once and read
// again by each reader. A pipeline breaker: a sink that collects the subtree's batches
// (accounted under "Spool", failing at the memory limit like any breaker), then a
// source of them, one morsel per batch, as many times as it is read. The physical
// planner spools only subtrees of bounded input estimated small (physical_planner.cc).
#include <memory>
#include <vector>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/operator.h"

namespace sluice::exec {

class SpoolSink : public Sink, public Source {
 public:
  SpoolSink();
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;
  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  int64_t num_morsels() const override { return static_cast<int64_t>(out_.size()); }
  /// Emits batch `morsel` again; may run any number of times once Finalize has.
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  BatchCollector collected_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> out_;
};

}  // namespace sluice::exec
