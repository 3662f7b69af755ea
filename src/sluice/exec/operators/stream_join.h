#pragma once
// Joins of two streams (docs/design/streams.md, "Stream joins"): interval joins, window
// joins and regular joins, for inner, left, right, full, semi and anti joins.
//
// Both inputs go through one keyed exchange with two ports (exchange.h: port 0 the
// left input, port 1 the right), so each worker owns the same keys of both sides and
// sees each side's own watermark. A worker keeps, per side, the rows that may still
// match (keyed state, state/state_backend.h KeyedRows: found by their encoded join
// keys, each leaving at its time + the side's reach), probes
// the other side's state with every row that arrives, then stores the row. Results
// come out as soon as both rows have arrived (a batch of them per arriving batch);
// nothing waits for a window to close.
//
// Time bounds. When the condition bounds the two sides' event times (the time
// attribute columns below), right time - left time lies in [lo, hi] for every match:
//   - an interval join: `r.ts BETWEEN l.ts - INTERVAL '5' SECOND AND l.ts + ...`;
//   - a window join: equal window_start (or window_end) columns, [0, 0].
// A stored left row can match no right row to come once the right watermark reaches
// its time + hi (a right row at or below the watermark is late), and a right row none
// once the left watermark reaches its time - lo: the row leaves the state then, and
// for an outer join an unmatched row is emitted with nulls at that moment. A row that
// arrives late (time <= its own side's watermark) while the other side's rows expire
// is dropped and counted (Progress::rows_late; the late-data sink gets it,
// late_rows.h): partners it would have had may be gone. A row without a time matches
// nothing: an outer or anti join emits it unmatched at once, other joins drop and
// count it (Progress::rows_without_time). Once a side has ended (its watermark is
// +infinity) the other side's rows all leave, and new ones are not kept.
// The output's watermark is the lower of the two, less max(0, hi, -lo): every output
// row's two time columns then lie above it, so windows over the join's output work.
//
// Regular joins (no time bound): rows stay for the whole run, and the join passes on no
// watermark but the final one; an unmatched row of an outer join comes out with nulls
// at the end. With a state TTL (ExecContext::state_ttl_us) the join becomes an
// interval join of [-TTL, TTL] on the two inputs' event time columns: rows further
// apart do not meet, rows leave the state as above, late rows are dropped. (Leaving by
// the TTL alone would make what meets depend on which input ran ahead, and a file
// would then not give the stream's answer.)
//
// Memory: both sides' stored batches and their key bytes, under "StreamJoin"; past the
// limit the job fails with the memory error (state does not spill yet).
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "sluice/exec/exchange.h"
#include "sluice/exec/operator.h"
#include "sluice/exec/state/state_backend.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

struct StreamJoinSpec {
  plan::JoinType type = plan::JoinType::kInner;
  std::vector<expr::Expr> left_keys;   // over the left input
  std::vector<expr::Expr> right_keys;  // over the right input, same types
  /// Over left ++ right columns; may be null.
  expr::Expr condition;
  /// Time attribute columns of the left and right inputs (-1: none).
  int left_time = -1;
  int right_time = -1;
  /// Bounds on right time - left time of every match (regular joins: the extremes).
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  /// A stored left row expires when the right watermark reaches its time + left_reach;
  /// a right row when the left watermark reaches its time + right_reach (kForever:
  /// never). Interval and window joins: hi and -lo; regular joins: the TTL.
  int64_t left_reach = kForever;
  int64_t right_reach = kForever;
  /// Regular joins (no bound): the time attribute columns a state TTL
  /// (ExecContext::state_ttl_us) applies to, -1 if the input has none.
  int ttl_left_time = -1;
  int ttl_right_time = -1;
  /// Drop (and count) rows that arrive late on their side (time <= its watermark).
  bool drop_late_left = false;
  bool drop_late_right = false;
  /// The output watermark is the lower input watermark less this (kForever: only the
  /// end of input is passed on).
  int64_t output_delay = kForever;
  std::shared_ptr<arrow::Schema> left_schema;
  std::shared_ptr<arrow::Schema> right_schema;
  /// left ++ right, or the left input's for semi and anti joins.
  std::shared_ptr<arrow::Schema> output_schema;
};

/// The join as the source of the pipeline after it: one morsel per consumer of its
/// exchange, each joining its share of the keys.
class StreamJoin : public Source {
 public:
  explicit StreamJoin(StreamJoinSpec spec);
  /// The exchange both inputs feed: Port(0) left, Port(1) right.
  const std::shared_ptr<Exchange>& exchange() const { return exchange_; }
  const StreamJoinSpec& spec() const { return spec_; }

  Status Prepare(ExecContext* ctx) override { return exchange_->Prepare(ctx); }
  int64_t num_morsels() const override { return exchange_->num_morsels(); }
  bool morsel_per_worker() const override { return true; }
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  StreamJoinSpec spec_;
  std::shared_ptr<Exchange> exchange_;
};

}  // namespace sluice::exec
