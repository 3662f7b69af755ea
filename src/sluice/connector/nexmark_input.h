#pragma once
// The Nexmark generator as a table: `nexmark('bid', events => 1000000)` in SQL, format
// `nexmark` in a job (generator/nexmark.h has the events).
//
// The events are split between `splits` (default: one per thread) by number: split s
// generates numbers s, s + splits, ..., each split in number order. Every batch is
// followed by a watermark: the lowest event time still to come from any split (a split
// that has not started holds it at its first event; the permutation within groups of
// out_of_order_group numbers is the out-of-orderness it allows for). Events delayed on
// purpose (delayed_fraction) are not allowed for: they arrive late.
//
// With option `watermark` (a duration) the watermark is instead each split's bounded
// out-of-orderness, as a file's (event_time_input.h): its newest event time less the
// bound, less 1 us; the lowest over the splits.
//
// Options: events (count; -1 = without end: stops only when the job is stopped), rate
// (events per second of wall-clock time over all splits, 0 = as fast as possible),
// event_rate (events per second of event time, default 10000), seed,
// out_of_order_group, delayed_fraction, delay (a duration), splits, all_columns.
#include <memory>
#include <string>

#include "sluice/connector/generator/nexmark.h"
#include "sluice/connector/input_table.h"

namespace sluice::connector {

struct NexmarkInputOptions {
  generator::NexmarkTable table = generator::NexmarkTable::kBid;
  generator::NexmarkOptions generator;
  int64_t events = 10'000'000;      // < 0: no end
  double rate = 0;                  // events per second of wall-clock time; 0: no limit
  int splits = 0;                   // 0: the job's threads
  int64_t watermark_bound_us = -1;  // >= 0: bounded out-of-orderness watermarks
  /// Generate every column even when the query reads fewer (then drop them): the cost
  /// of a source that cannot skip columns, for comparisons.
  bool all_columns = false;
};

/// Opens spec (format nexmark, path: the table's name) as a table.
Result<std::shared_ptr<InputTable>> OpenNexmarkInput(const SourceSpec& spec);

std::shared_ptr<InputTable> MakeNexmarkInput(NexmarkInputOptions options);

}  // namespace sluice::connector
