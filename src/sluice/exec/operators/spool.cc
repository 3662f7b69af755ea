#include "sluice/exec/operators/spool.h"

namespace sluice::exec {

namespace {

struct SpoolLocal : CollectedBatches {
  std::unique_ptr<SpillRun> run;
};

}  // namespace

SpoolSink::SpoolSink() : PhysicalNode("Spool"), collected_("Spool") {}
SpoolSink::~SpoolSink() = default;

Result<std::unique_ptr<LocalSinkState>> SpoolSink::MakeLocal(ExecContext* ctx, int) {
  auto local = std::make_unique<SpoolLocal>();
  local->reservation = MemoryReservation(ctx->budget(), name());
  return local;
}

Status SpoolSink::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  // Rows are counted as they are read (by the executor, for a source): EXPLAIN ANALYZE
  // shows a spooled subtree's rows once per read, like a reused aggregate's.
  if (batch.data->num_rows() == 0) return Status::OK();
  auto* local = static_cast<SpoolLocal*>(base);
  if (spilling_.load(std::memory_order_relaxed)) {
    // The spool went to disk: this worker's buffer and batches follow.
    return SpillBuffered(ctx, local, &batch);
  }
  Status added = local->Add(batch);
  if (added.ok() || !added.IsOutOfMemory()) return added;
  spilling_.store(true);
  return SpillBuffered(ctx, local, &batch);
}

Status SpoolSink::SpillBuffered(ExecContext* ctx, LocalSinkState* base,
                                const Batch* batch) {
  auto* local = static_cast<SpoolLocal*>(base);
  if (!local->run) {
    const auto& schema =
        batch != nullptr ? batch->data->schema() : local->batches[0].data->schema();
    SpillSet* set;
    {
      std::lock_guard<std::mutex> lock(spill_mu_);
      if (!spill_) {
        spill_ =
            std::make_unique<SpillSet>(ctx, name(), schema, 1, &metrics().spilled_bytes);
      }
      set = spill_.get();
    }
    ARROW_ASSIGN_OR_RAISE(local->run, set->NewRun());
  }
  for (const auto& b : local->batches) ARROW_RETURN_NOT_OK(local->run->Write(0, *b.data));
  ARROW_RETURN_NOT_OK(local->Reset({}));
  if (batch != nullptr) ARROW_RETURN_NOT_OK(local->run->Write(0, *batch->data));
  return Status::OK();
}

Status SpoolSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  auto* local = static_cast<SpoolLocal*>(base.get());
  if (local->run) {
    if (!local->batches.empty()) ARROW_RETURN_NOT_OK(SpillBuffered(ctx, local, nullptr));
    ARROW_RETURN_NOT_OK(local->run->Close());
    local->run.reset();
  }
  return collected_.Merge(ctx, std::move(base));
}

Status SpoolSink::Finalize(ExecContext* ctx) {
  for (auto& b : collected_.TakeInOrder()) out_.push_back(std::move(b.data));
  runs_ = spill_ ? spill_->runs() : 0;
  return Status::OK();
}

int64_t SpoolSink::num_morsels() const {
  return static_cast<int64_t>(out_.size()) + runs_;
}

Status SpoolSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  const auto kept = static_cast<int64_t>(out_.size());
  if (morsel < kept) return out->Emit(Batch{out_[morsel], MorselSeq(morsel, 0)});
  ARROW_ASSIGN_OR_RAISE(auto reader, spill_->OpenRun(morsel - kept, 0));
  int64_t i = 0;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto b, reader->Next());
    if (!b) return Status::OK();
    ARROW_RETURN_NOT_OK(out->Emit(Batch{std::move(b), MorselSeq(morsel, i++)}));
  }
}

}  // namespace sluice::exec
