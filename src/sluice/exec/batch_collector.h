#pragma once
// Batches kept by a pipeline breaker (sort, join build, limit, collect): each worker
// adds to its own local buffer, accounted under the breaker's name; FinishLocal moves
// a worker's buffer and its reservation into the shared one.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/exec/operator.h"

namespace sluice::exec {

struct CollectedBatches : LocalSinkState {
  std::vector<Batch> batches;
  int64_t rows = 0;
  MemoryReservation reservation;
  int spill_generation = 0;  // for a breaker that spills: the generation it last saw

  /// Adds a batch, growing the reservation (fails at the memory limit).
  Status Add(Batch batch);
  /// Replaces the contents (after compaction), resizing the reservation.
  Status Reset(std::vector<Batch> batches);
};

class BatchCollector {
 public:
  explicit BatchCollector(std::string owner) : owner_(std::move(owner)) {}

  std::unique_ptr<CollectedBatches> MakeLocal(ExecContext* ctx) const;
  /// Thread-safe: moves a worker's batches and reservation into the shared buffer.
  Status Merge(ExecContext* ctx, std::unique_ptr<LocalSinkState> local);
  /// All batches, in seq order (call after every Merge).
  std::vector<Batch> TakeInOrder();
  MemoryReservation& reservation() { return shared_.reservation; }

 private:
  std::string owner_;
  std::mutex mu_;
  CollectedBatches shared_;
};

/// Orders batches by seq (stable).
void SortBySeq(std::vector<Batch>* batches);

}  // namespace sluice::exec
