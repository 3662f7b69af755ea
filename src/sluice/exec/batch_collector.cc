#include "sluice/exec/batch_collector.h"

#include <algorithm>

namespace sluice::exec {

Status CollectedBatches::Add(Batch batch) {
  ARROW_RETURN_NOT_OK(reservation.Grow(BatchMemory(*batch.data)));
  rows += batch.data->num_rows();
  batches.push_back(std::move(batch));
  return Status::OK();
}

Status CollectedBatches::Reset(std::vector<Batch> new_batches) {
  int64_t bytes = 0;
  rows = 0;
  for (const auto& b : new_batches) {
    bytes += BatchMemory(*b.data);
    rows += b.data->num_rows();
  }
  batches = std::move(new_batches);
  return reservation.Resize(bytes);
}

std::unique_ptr<CollectedBatches> BatchCollector::MakeLocal(ExecContext* ctx) const {
  auto local = std::make_unique<CollectedBatches>();
  local->reservation = MemoryReservation(ctx->budget(), owner_);
  return local;
}

Status BatchCollector::Merge(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  auto* local = static_cast<CollectedBatches*>(base.get());
  std::lock_guard<std::mutex> lock(mu_);
  if (shared_.reservation.owner().empty()) {
    shared_.reservation = MemoryReservation(ctx->budget(), owner_);
  }
  // The shared reservation takes the worker's share over: released and taken back at
  // once, so that no other worker can take those bytes in between.
  int64_t bytes = local->reservation.size();
  local->reservation.Clear();
  shared_.reservation.ResizeOverLimit(shared_.reservation.size() + bytes);
  shared_.rows += local->rows;
  for (auto& b : local->batches) shared_.batches.push_back(std::move(b));
  return Status::OK();
}

std::vector<Batch> BatchCollector::TakeInOrder() {
  std::lock_guard<std::mutex> lock(mu_);
  SortBySeq(&shared_.batches);
  shared_.rows = 0;
  return std::move(shared_.batches);
}

void SortBySeq(std::vector<Batch>* batches) {
  std::stable_sort(batches->begin(), batches->end(),
                   [](const Batch& a, const Batch& b) { return a.seq < b.seq; });
}

}  // namespace sluice::exec
