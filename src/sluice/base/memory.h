#pragma once
// Memory accounting for one job.
//
// Model (see docs/design/memory.md): data in flight (a batch moving through a
// pipeline) is bounded by threads x batch size and is not accounted. Everything an
// operator *retains* and that grows with the data (hash tables, sort buffers, build
// sides, collected results) is accounted through a MemoryReservation against the job's
// MemoryBudget. A reservation that cannot grow fails with a "memory limit exceeded"
// error naming its owner; an owner that can spill (aggregate, sort, join) answers that
// error by writing its state to disk and going on (docs/design/spilling.md). The
// budget itself never asks other consumers to free memory.
//
// Thread-safety: MemoryBudget is thread-safe. A MemoryReservation is owned by one
// operator instance and must not be used from two threads at once.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/base/status.h"

namespace sluice {

class MemoryBudget {
 public:
  /// limit_bytes <= 0 means unlimited.
  explicit MemoryBudget(int64_t limit_bytes) : limit_(limit_bytes) {}

  int64_t limit() const { return limit_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t peak() const { return peak_.load(std::memory_order_relaxed); }

  /// Reserves bytes on behalf of `owner`; fails without reserving when the limit
  /// would be exceeded.
  Status TryReserve(int64_t bytes, const std::string& owner);
  /// Reserves bytes even beyond the limit (see MemoryReservation::ResizeOverLimit).
  void ForceReserve(int64_t bytes);
  void Release(int64_t bytes);

  /// Default limit: 80% of physical memory.
  static int64_t DefaultLimit();

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> peak_{0};
};

/// One operator's share of the budget. Tracks its own peak for EXPLAIN ANALYZE.
class MemoryReservation {
 public:
  MemoryReservation() = default;
  MemoryReservation(MemoryBudget* budget, std::string owner)
      : budget_(budget), owner_(std::move(owner)) {}
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;
  MemoryReservation(MemoryReservation&& other) noexcept { *this = std::move(other); }
  MemoryReservation& operator=(MemoryReservation&& other) noexcept;
  ~MemoryReservation() { Clear(); }

  /// Grows the reservation by `bytes`; on failure nothing changes and the error names
  /// the owner.
  Status Grow(int64_t bytes);
  /// Sets the reservation to exactly `bytes` (grows or shrinks).
  Status Resize(int64_t bytes);
  void Shrink(int64_t bytes);
  /// Sets the reservation to `bytes` even if that exceeds the limit: only for the small,
  /// bounded state an operator needs to go on after it freed all it could (a hash
  /// aggregate's empty table after spilling while other workers still hold the budget
  /// until their next batch).
  void ResizeOverLimit(int64_t bytes);
  void Clear();

  int64_t size() const { return size_; }
  int64_t peak() const { return peak_; }
  const std::string& owner() const { return owner_; }

 private:
  MemoryBudget* budget_ = nullptr;
  std::string owner_;
  int64_t size_ = 0;
  int64_t peak_ = 0;
};

/// Bytes held by an Arrow array's buffers (counting shared buffers once per array).
int64_t ArrayMemory(const class arrow::ArrayData& data);
int64_t BatchMemory(const class arrow::RecordBatch& batch);

/// Peak resident set size of this process, in bytes.
int64_t PeakRss();

/// Formats a byte count as "1.2 GiB".
std::string FormatBytes(int64_t bytes);

/// Parses "512MiB", "2GB", "80%" (of physical memory), or a plain byte count.
Result<int64_t> ParseByteSize(const std::string& text);

}  // namespace sluice
