#pragma once
// A file source read as a bounded stream with event time (options event_time and
// watermark of any file format): its morsels are read in order by one worker, which
// emits after every batch the watermark "bounded out-of-orderness": the largest event
// time seen so far minus the bound, minus 1 us (a row that much older than the newest
// one may still come; older ones are late). The rows then spread over the threads at
// the next exchange (a GROUP BY over windows). Without these options a file is read
// in parallel and its only watermark is +infinity at the end: every window fires then
// and no row is late.
#include <memory>
#include <string>

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

}  // namespace sluice::connector
