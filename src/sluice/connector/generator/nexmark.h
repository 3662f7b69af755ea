#pragma once
// Nexmark events (an online auction: people, auctions, bids), generated as the
// reference generator of the benchmark does (docs/design/nexmark.md), as Arrow batches
// of one of the three tables.
//
// Events are numbered 0, 1, 2, ...; each number is first moved within its group of
// `out_of_order_group` numbers (a fixed permutation, the reference's out-of-orderness),
// and the moved number decides everything about the event: of every 50, 1 is a person,
// 3 are auctions and 46 bids; ids, references (hot sellers, bidders and auctions),
// prices and strings come from a random stream seeded by (seed, number) alone, so any
// range of numbers can be generated independently, in any order, on any thread.
// Event time: base_time_us + moved number * inter_event_us (exact microseconds).
//
// Tables (column names as RisingWave's Nexmark sources; times timestamp[us], UTC):
//   person  (id, name, email_address, credit_card, city, state, date_time, extra)
//   auction (id, item_name, description, initial_bid, reserve, date_time, expires,
//            seller, category, extra)
//   bid     (auction, bidder, price, channel, url, date_time, extra)
#include <arrow/record_batch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::generator {

enum class NexmarkTable { kPerson, kAuction, kBid };

struct NexmarkOptions {
  uint64_t seed = 0;
  /// Event time of event 0: 2015-07-15 00:00:00 UTC, the reference's.
  int64_t base_time_us = 1'436'918'400'000'000LL;
  /// Event time between consecutive events: 100 us is 10,000 events a second.
  int64_t inter_event_us = 100;
  /// Numbers are permuted within groups of this many (1: in order).
  int64_t out_of_order_group = 1;
  /// A share of events (chosen by hash) whose time is moved back by delay_us: events
  /// that arrive after the watermark has passed them (late data, for tests).
  double delayed_fraction = 0;
  int64_t delay_us = 0;
};

/// Parses "person", "auction" or "bid".
Result<NexmarkTable> ParseNexmarkTable(const std::string& name);
const char* NexmarkTableName(NexmarkTable table);
std::shared_ptr<arrow::Schema> NexmarkSchema(NexmarkTable table);

class NexmarkGenerator {
 public:
  explicit NexmarkGenerator(NexmarkOptions options);

  const NexmarkOptions& options() const { return options_; }
  /// The table event number n (before the permutation) belongs to.
  NexmarkTable TableOf(int64_t n) const;
  /// The event time of event number n: its moved number's (delays aside).
  int64_t TimeOf(int64_t n) const;
  /// The date_time event number n gets: TimeOf(n), less delay_us if it is delayed.
  int64_t EventTimeOf(int64_t n) const;
  /// A time no event numbered n or later has (delayed events aside): the start of n's
  /// group. What a watermark may say once every number before n was generated.
  int64_t LowestTimeFrom(int64_t n) const;

  /// The rows of `table` among the event numbers first, first + stride, ... below end,
  /// in number order, with the columns `columns` of NexmarkSchema(table) (in that
  /// order). Columns not asked for are not generated.
  Result<std::shared_ptr<arrow::RecordBatch>> Generate(NexmarkTable table, int64_t first,
                                                       int64_t end, int64_t stride,
                                                       const std::vector<int>& columns,
                                                       arrow::MemoryPool* pool) const;

 private:
  int64_t Moved(int64_t n) const;
  NexmarkOptions options_;
  std::vector<std::string> channel_urls_;  // by channel number
};

}  // namespace sluice::generator
