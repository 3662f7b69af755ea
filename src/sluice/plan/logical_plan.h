#pragma once
// Logical plan: a tree of relational operators, each with its output schema.
// Expressions in a node are bound against the output schema of its input(s) (for a
// join's extra condition: left fields followed by right fields).
//
// Built by PlanBuilder (plan_builder.h) from the C++ API and from SQL; rewritten by the
// optimizer (optimizer.h); turned into pipelines by exec/physical_planner.h.
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <memory>
#include <string>
#include <vector>

#include "sluice/expr/expr.h"
#include "sluice/plan/table_source.h"

namespace sluice::plan {

enum class NodeKind {
  kScan,
  kFilter,
  kProject,
  kAggregate,
  kJoin,
  kSort,
  kLimit,
  kUnion,
  kWindow,
  kTimeWindow
};

enum class JoinType { kInner, kLeft, kRight, kFull, kSemi, kAnti };
const char* JoinTypeName(JoinType t);

struct PlanNode;
using Plan = std::shared_ptr<PlanNode>;

struct PlanNode {
  explicit PlanNode(NodeKind k) : kind(k) {}
  virtual ~PlanNode() = default;
  NodeKind kind;
  std::shared_ptr<arrow::Schema> schema;
  std::vector<Plan> inputs;
  /// Unique id within a plan (assigned by AssignIds), used by EXPLAIN ANALYZE.
  int id = -1;
};

struct ScanNode : PlanNode {
  ScanNode() : PlanNode(NodeKind::kScan) {}
  std::shared_ptr<TableSource> source;
  /// Columns of source->schema() produced, in order (projection pushdown).
  std::vector<int> projection;
  /// Predicates bound against this node's output schema, usable for pruning only.
  std::vector<expr::Expr> pruning_predicates;
};

struct FilterNode : PlanNode {
  FilterNode() : PlanNode(NodeKind::kFilter) {}
  expr::Expr predicate;
};

struct ProjectNode : PlanNode {
  ProjectNode() : PlanNode(NodeKind::kProject) {}
  std::vector<expr::Expr> exprs;  // output column i = exprs[i], named schema->field(i)
};

struct AggregateNode : PlanNode {
  AggregateNode() : PlanNode(NodeKind::kAggregate) {}
  std::vector<expr::Expr> keys;        // output columns 0..k-1
  std::vector<expr::Expr> aggregates;  // Aggregate exprs; output columns k..
};

struct JoinNode : PlanNode {
  JoinNode() : PlanNode(NodeKind::kJoin) {}
  JoinType type = JoinType::kInner;
  std::vector<expr::Expr> left_keys;   // bound against inputs[0]
  std::vector<expr::Expr> right_keys;  // bound against inputs[1]
  /// Extra (non-equi) condition, bound against left ++ right fields; may be null.
  expr::Expr condition;
  /// Which side the hash table is built on (decided by the optimizer).
  bool build_left = false;
};

struct SortKey {
  expr::Expr expr;
  bool ascending = true;
  bool nulls_first = false;
};

struct SortNode : PlanNode {
  SortNode() : PlanNode(NodeKind::kSort) {}
  std::vector<SortKey> keys;
  /// If >= 0, only the first `limit` rows are needed (top-k, set by the optimizer).
  int64_t limit = -1;
};

struct LimitNode : PlanNode {
  LimitNode() : PlanNode(NodeKind::kLimit) {}
  int64_t limit = -1;  // -1: no limit
  int64_t offset = 0;
};

struct UnionNode : PlanNode {
  UnionNode() : PlanNode(NodeKind::kUnion) {}
  bool all = true;  // UNION (without ALL) is planned as UNION ALL + DISTINCT
};

// ---- Window functions ----------------------------------------------------------------

enum class FrameUnit { kRows, kRange };
enum class FrameBoundKind {
  kUnboundedPreceding,
  kPreceding,
  kCurrentRow,
  kFollowing,
  kUnboundedFollowing
};

struct FrameBound {
  // A constructor (not an aggregate) so that FrameBound{kind} needs no offset.
  FrameBound(FrameBoundKind k = FrameBoundKind::kCurrentRow,  // NOLINT
             std::shared_ptr<arrow::Scalar> n = nullptr)
      : kind(k), offset(std::move(n)) {}
  FrameBoundKind kind;
  /// N for kPreceding/kFollowing (null otherwise). ROWS: a non-negative integer. RANGE:
  /// a non-negative value of the order key's type (numbers; whole days for dates) or
  /// an interval/duration for dates and timestamps. MakeWindow checks it and stores
  /// it normalised (int64 for ROWS and integer keys, float64 for floating keys,
  /// decimal128(38, key scale) for decimal keys).
  std::shared_ptr<arrow::Scalar> offset;
};

/// The rows of a partition an aggregate or first/last/nth_value sees for each row.
/// RANGE CURRENT ROW includes the row's peers (equal ORDER BY keys); RANGE N
/// PRECEDING/FOLLOWING compares the single ORDER BY key's value.
struct WindowFrame {
  FrameUnit unit = FrameUnit::kRange;
  FrameBound start{FrameBoundKind::kUnboundedPreceding};
  FrameBound end{FrameBoundKind::kCurrentRow};
  /// True when the query gave no frame: RANGE UNBOUNDED PRECEDING .. CURRENT ROW, which
  /// without ORDER BY is the whole partition (every row is a peer of every other).
  bool is_default = true;
};

/// One window function of a WindowNode. Names (lower case): row_number rank
/// dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
/// sum avg min max count count_star. Ranking functions, ntile, lag and lead ignore
/// the frame.
struct WindowFunction {
  std::string name;
  /// Bound against the node's input. Constant arguments (ntile's and nth_value's n,
  /// lag/lead's offset) are literals after MakeWindow.
  std::vector<expr::Expr> args;
  WindowFrame frame;
  /// The output column's name; its type is in the node's schema.
  std::string output_name;
};

/// Window functions over one (PARTITION BY, ORDER BY) specification. Output: every
/// input column in order, then one column per function. Rows come out grouped by
/// partition and ordered by the ORDER BY keys within one (no order across partitions).
/// NULL partition keys form a partition of their own.
struct WindowNode : PlanNode {
  WindowNode() : PlanNode(NodeKind::kWindow) {}
  std::vector<expr::Expr> partition_by;
  std::vector<SortKey> order_by;
  std::vector<WindowFunction> functions;
  /// If > 0, only the first `top_per_partition` rows of each partition in ORDER BY
  /// order matter (set by the optimizer's window_top_k rule: every function is
  /// row_number() and a filter above keeps row_number <= top_per_partition), so the
  /// input may be cut to those rows first.
  int64_t top_per_partition = -1;
};

// ---- Event-time windows (TUMBLE / HOP / SESSION) --------------------------------------

enum class TimeWindowKind { kTumble, kHop, kSession };
const char* TimeWindowKindName(TimeWindowKind k);

/// The windows of an event-time column (docs/design/streams.md). Output: every input
/// column in order, then window_start and window_end (timestamp[us] with the time
/// column's time zone): the window [window_start, window_end) of each row.
/// - Tumble: one window of `size` per row, aligned to the epoch.
/// - Hop: the size / slide windows of `size`, starting every `slide`, that contain the
///   row (one output row per window; an aggregate grouping by window_start plans it
///   with panes instead, never copying rows).
/// - Session: windows of one key's rows no more than `gap` apart; they exist only per
///   key, so this node must be the input (through projections and filters of other
///   columns) of an aggregate grouping by window_start or window_end, whose other keys
///   are the session's key.
/// A row whose time is NULL belongs to no window (it is dropped and counted).
struct TimeWindowNode : PlanNode {
  TimeWindowNode() : PlanNode(NodeKind::kTimeWindow) {}
  TimeWindowKind window = TimeWindowKind::kTumble;
  int time_column = -1;  // in the input: a timestamp of any unit
  int64_t size_us = 0;   // tumble, hop
  int64_t slide_us = 0;  // hop
  int64_t gap_us = 0;    // session
  /// How long after the watermark passed a window's end it still takes late rows (it
  /// fires then): SQL's allowed_lateness argument.
  int64_t lateness_us = 0;
  /// window_start, window_end: the node's last two columns.
  int start_column() const { return schema->num_fields() - 2; }
  int end_column() const { return schema->num_fields() - 1; }
};

/// "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW" (empty for a default frame).
std::string DescribeFrame(const WindowFrame& frame);

/// Numbers the nodes of a plan depth-first (root = 0).
void AssignIds(const Plan& root);

/// A one-line description of a node (no children), e.g. "Filter (amount > 10)".
std::string DescribeNode(const PlanNode& node);

/// The whole tree, indented, one node per line.
std::string ExplainPlan(const Plan& root);

/// True when `a` and `b` certainly compute the same rows: the same tree of scans (of one
/// source object), filters, projections, aggregates and joins with equal expressions
/// and schemas. Conservative: any other node kind (sorts, limits, windows, unions) is
/// never the same, so a false answer says nothing.
bool SameResult(const Plan& a, const Plan& b);

}  // namespace sluice::plan
