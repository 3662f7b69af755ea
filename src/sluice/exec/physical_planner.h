#pragma once
// Logical plan -> pipelines. Pipelines are cut at breakers (aggregate, sort, window,
// limit, join build); a union feeds all its inputs into the same downstream sink. The
// result is ordered so that a pipeline runs after the pipelines whose sinks it reads.
#include <memory>
#include <vector>

#include "sluice/exec/dictionary_columns.h"
#include "sluice/exec/pipeline.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

struct PhysicalPlan {
  std::vector<Pipeline> pipelines;
  /// Every physical node with the plan node it implements (for EXPLAIN ANALYZE).
  std::vector<std::shared_ptr<PhysicalNode>> nodes;
  /// Plan nodes whose result is another one's (plan::SameResult), read again instead of
  /// computed twice: their ids.
  std::vector<int> reused;
};

/// Builds the pipelines computing `root` into `sink`. The plan's ids must be assigned
/// (plan::AssignIds). `sink_takes_dictionaries`: string columns may reach the sink
/// dictionary-encoded (from sources that have them so, through filters only). A
/// result that updates (operators/updating_aggregate.h) is refused unless the sink
/// takes it (Sink::TakeUpdates), or `for_display` (EXPLAIN without running).
Result<PhysicalPlan> BuildPhysicalPlan(const plan::Plan& root, std::shared_ptr<Sink> sink,
                                       bool sink_takes_dictionaries = false,
                                       bool for_display = false);

/// Plans, runs, and returns the result as a table (rows in order if the plan orders).
/// `strings`: whether string columns its sources read dictionary-encoded may stay so in
/// the table, and repeated ones be encoded (tables kept in memory, dictionary_columns.h);
/// kPlain: the table has exactly root's schema.
Result<std::shared_ptr<arrow::Table>> ExecuteToTable(
    const plan::Plan& root, ExecContext* ctx, PhysicalPlan* physical = nullptr,
    TableStrings strings = TableStrings::kPlain);

/// Whether column `c` of `node` is a time attribute: a column whose rows lie above the
/// watermarks `node` passes on (the event time column of a source with event time;
/// window_end of window rows; window_start/window_end of an aggregate over windows;
/// the two time columns of a time-bounded stream join), through filters and plain
/// projections.
bool IsTimeAttribute(const plan::Plan& node, int c);

/// What a join's condition says about the distance in time of its two inputs' rows:
/// right_column's time - left_column's time lies in [lo, hi] for every match (lo or
/// hi at the int64 extreme: unbounded on that side), both time attributes. From
/// equal keys ([0, 0]) and comparisons of the two columns, each perhaps plus or minus
/// a constant interval (BETWEEN included). The tightest pair of columns wins. The
/// bounds are widened by the columns' unit (at least 1 us): a superset of the
/// condition's, for pruning and ageing state; the condition itself decides.
struct JoinTimeBounds {
  bool found = false;
  int left_column = -1;
  int right_column = -1;
  int64_t lo = 0;
  int64_t hi = 0;
};
JoinTimeBounds FindJoinTimeBounds(const plan::JoinNode& n);

/// The logical plan annotated with what each node did: rows out, time, peak memory.
std::string ExplainAnalyze(const plan::Plan& root, const PhysicalPlan& physical);

}  // namespace sluice::exec
