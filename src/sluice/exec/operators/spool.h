#pragma once
// Spool: the rows of a subtree that a plan reads twice (the same join under a join and
// under the aggregate that a rewrite restricted by it: TPC-H Q2), kept once and read
// again by each reader. A pipeline breaker: a sink that collects the subtree's batches
// (accounted under "Spool"), then a source of them, one morsel per batch, as many times
// as it is read. The physical planner spools subtrees of bounded input estimated small
// (physical_planner.cc); an estimate can be wrong, so a spool that outgrows the memory
// limit writes its rows to a spill file and reads them back from there: a query that
// would have computed the subtree twice in a stream never fails for being spooled.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/operator.h"
#include "sluice/exec/spill.h"

namespace sluice::exec {

class SpoolSink : public Sink, public Source {
 public:
  SpoolSink();
  ~SpoolSink() override;
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;
  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  /// A morsel per batch kept in memory, then one per spill run.
  int64_t num_morsels() const override;
  /// Emits morsel `morsel` again; may run any number of times once Finalize has.
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  // Writes the worker's buffered batches (then `batch`, if any) to its spill run.
  Status SpillBuffered(ExecContext* ctx, LocalSinkState* local, const Batch* batch);

  BatchCollector collected_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> out_;
  std::atomic<bool> spilling_{false};  // set by the first worker out of memory
  std::mutex spill_mu_;
  std::unique_ptr<SpillSet> spill_;  // made by the first spill (under spill_mu_)
  int64_t runs_ = 0;                 // after Finalize
};

}  // namespace sluice::exec
