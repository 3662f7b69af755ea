#include "sluice/exec/operators/spool.h"

namespace sluice::exec {

SpoolSink::SpoolSink() : PhysicalNode("Spool"), collected_("Spool") {}

Result<std::unique_ptr<LocalSinkState>> SpoolSink::MakeLocal(ExecContext* ctx, int) {
  return collected_.MakeLocal(ctx);
}

Status SpoolSink::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  // Rows are counted as they are read (by the executor, for a source): EXPLAIN ANALYZE
  // shows a spooled subtree's rows once per read, like a reused aggregate's.
  if (batch.data->num_rows() == 0) return Status::OK();
  return static_cast<CollectedBatches*>(base)->Add(std::move(batch));
}

Status SpoolSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  return collected_.Merge(ctx, std::move(base));
}

Status SpoolSink::Finalize(ExecContext* ctx) {
  for (auto& b : collected_.TakeInOrder()) out_.push_back(std::move(b.data));
  return Status::OK();
}

Status SpoolSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  return out->Emit(Batch{out_[morsel], MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
