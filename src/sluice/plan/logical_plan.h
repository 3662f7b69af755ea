#pragma once
// Logical plan: a tree of relational operators, each with its output schema.
// Expressions in a node are bound against the output schema of its input(s) (for a
// join's extra condition: left fields followed by right fields).
//
// Built by PlanBuilder (plan_builder.h) from the C++ API and from SQL; rewritten by the
// optimizer (optimizer.h); turned into pipelines by exec/physical_planner.h.
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
  kUnion
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

/// Numbers the nodes of a plan depth-first (root = 0).
void AssignIds(const Plan& root);

/// A one-line description of a node (no children), e.g. "Filter (amount > 10)".
std::string DescribeNode(const PlanNode& node);

/// The whole tree, indented, one node per line.
std::string ExplainPlan(const Plan& root);

}  // namespace sluice::plan
