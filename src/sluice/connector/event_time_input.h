#pragma once
// A file source read as a bounded stream with event time (options event_time and
// watermark of any file format): its morsels are read in order by one worker, which
// emits after every batch the watermark "bounded out-of-orderness": the largest event
// time seen so far minus the bound, minus 1 us (a row that much older than the newest
// one may still come; older ones are late). The rows then spread over the threads at
// the next exchange (a GROUP BY over windows). Without these options a file is read
// in parallel and its only watermark is +infinity at the end: every window fires then
// and no row is late.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sluice/connector/input_table.h"

namespace sluice::connector {

/// `input` with watermarks on column `time_column` (a timestamp) allowing rows
/// `bound_us` out of order. Fails if the column is missing or not a timestamp.
Result<std::shared_ptr<InputTable>> WithEventTime(std::shared_ptr<InputTable> input,
                                                  const std::string& time_column,
                                                  int64_t bound_us);

/// The watermark after rows whose largest time (in microseconds) is `max_time_us`.
inline int64_t BoundedWatermark(int64_t max_time_us, int64_t bound_us) {
  return max_time_us - bound_us - 1;
}

/// The larger of `newest` and the largest valid value of `times` (a timestamp array of
/// any unit), in microseconds.
int64_t NewestMicros(const arrow::Array& times, int64_t newest);

/// A source's watermark over its splits (a generator's splits, a topic's partitions):
/// the lowest of their own, leaving out idle ones and those that ended. Thread-safe:
/// each split's worker sets its own and emits.
class SplitWatermarks {
 public:
  /// `splits` splits, each starting at `initial` (INT64_MIN: nothing known yet).
  void Reset(int splits, int64_t initial);
  void Set(int split, int64_t watermark) { marks_[split] = watermark; }
  /// The split sends nothing more.
  void End(int split) { marks_[split] = std::numeric_limits<int64_t>::max(); }
  /// An idle split does not hold the watermark back until it has rows again.
  void SetIdle(int split, bool idle) { idle_[split] = idle; }
  /// Emits the lowest watermark, unless nothing is known yet or every split ended (the
  /// end says so itself).
  Status Emit(exec::Emitter* out) const;

 private:
  std::vector<std::atomic<int64_t>> marks_;
  std::vector<std::atomic<bool>> idle_;
};

}  // namespace sluice::connector
