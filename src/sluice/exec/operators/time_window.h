#pragma once
// Event-time windows (docs/design/streams.md): placing rows in windows, and the
// aggregate over windows that emits each window once, when the watermark passes it.
//
// TimeWindowFactory places rows (plan::TimeWindowNode): it appends window_start and
// window_end (timestamp[us], the time column's zone) to every row. As rows of a plain
// TUMBLE/HOP it gives each row its windows (a hop's row once per window, size / slide
// times). Under a WindowAggregate it only marks where the row goes, never copying:
// TUMBLE and HOP rows get their pane [p, p + slide) (a tumble's pane is its window),
// SESSION rows [t, t + gap). Rows whose time is NULL belong to no window: dropped and
// counted (Progress::rows_without_time).
//
// WindowAggregateFactory: GROUP BY window_start/window_end and other keys over
// windowed rows, for one share of the keys (an exchange in front of it sends every key
// to one worker). Aggregates are incremental: each pane (or session) keeps
// accumulators per key, never rows. A window [s, e) fires once, when the watermark
// reaches e - 1 + lateness (watermark W: no row with time <= W is still to come); a hop
// window then merges the size / slide panes it covers into fresh accumulators, so a
// row costs the same whatever the ratio. A row that arrives when every window it
// belongs to has fired is late: dropped and counted (Progress::rows_late). A session
// is one key's rows each less than `gap` after the last; a row bridging two sessions
// merges them. Output per fired window: the aggregate's columns (keys in its order,
// window_start/window_end among them, then the aggregates). End of input is the
// watermark +infinity: every window fires, as in a batch GROUP BY.
// State: keyed state (state/state_backend.h): a pane per namespace with a timer per
// window, or the sessions as slots with a timer each.
// Memory: the panes' and sessions' keys and accumulators, under "WindowAggregate";
// state past the limit fails with the memory error (no spilling of window state yet).
// Hop and session windows need decomposable aggregates (aggregate_functions.h: their
// panes and sessions merge); tumbling windows take any aggregate.
#include <limits>
#include <memory>
#include <vector>

#include "sluice/base/saturating.h"
#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

struct TimeWindowSpec {
  plan::TimeWindowKind kind = plan::TimeWindowKind::kTumble;
  int64_t size_us = 0;   // tumble, hop
  int64_t slide_us = 0;  // hop
  int64_t gap_us = 0;    // session
  /// Extra event time a window waits for late rows after the watermark passed it.
  int64_t lateness_us = 0;
};

/// floor(a / b) for b > 0 (towards minus infinity, unlike C++'s division).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// A timestamp value of unit `unit` in microseconds (nanoseconds rounded down).
inline int64_t TimestampMicros(int64_t v, arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      return v * 1'000'000;
    case arrow::TimeUnit::MILLI:
      return v * 1000;
    case arrow::TimeUnit::MICRO:
      return v;
    case arrow::TimeUnit::NANO:
      return FloorDiv(v, 1000);
  }
  return v;
}

class TimeWindowFactory : public OperatorFactory {
 public:
  /// `panes`: place rows for a WindowAggregate (see above) instead of as window rows.
  TimeWindowFactory(TimeWindowSpec spec, int time_column, bool panes,
                    std::shared_ptr<arrow::Schema> output_schema);
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;

 private:
  TimeWindowSpec spec_;
  int time_column_;
  bool panes_;
  std::shared_ptr<arrow::Schema> output_schema_;
};

class WindowAggregateFactory : public OperatorFactory {
 public:
  /// Over input batches that went through a TimeWindowFactory in pane mode: a row's
  /// pane (or a session row's time) is column `pane_column` minus `pane_offset` (the
  /// window_start it put there, or its window_end less the pane's width).
  /// `keys`: the grouping keys other than the window, over the input. `output_keys`:
  /// per output key column, kWindowStart, kWindowEnd or an index into `keys`.
  static constexpr int kWindowStart = -1;
  static constexpr int kWindowEnd = -2;
  WindowAggregateFactory(TimeWindowSpec spec, int pane_column, int64_t pane_offset,
                         std::vector<expr::Expr> keys, std::vector<int> output_keys,
                         std::vector<expr::Expr> aggregates,
                         std::shared_ptr<arrow::Schema> output_schema);
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;

  const TimeWindowSpec& spec() const { return spec_; }
  int pane_column() const { return pane_column_; }
  int64_t pane_offset() const { return pane_offset_; }
  const std::vector<expr::Expr>& keys() const { return keys_; }
  const std::vector<int>& output_keys() const { return output_keys_; }
  const std::vector<expr::Expr>& aggregates() const { return aggregates_; }
  const std::shared_ptr<arrow::Schema>& output_schema() const { return output_schema_; }

 private:
  TimeWindowSpec spec_;
  int pane_column_;
  int64_t pane_offset_;
  std::vector<expr::Expr> keys_;
  std::vector<int> output_keys_;
  std::vector<expr::Expr> aggregates_;
  std::shared_ptr<arrow::Schema> output_schema_;
};

}  // namespace sluice::exec
