#pragma once
// Splitting a grouped query: `SELECT k, sum(a) / count(*) FROM t GROUP BY k` becomes
//   Aggregate keys=[k] aggs=[sum(a), count_star()]    -- input columns
//   Project k, (#1 / #2)                               -- aggregate output columns
// Expressions (select list, HAVING, ORDER BY) are converted over the aggregate's input
// first; Rewrite() then maps them onto its output: a subtree equal to a group key
// becomes that key's column, an aggregate call its result column, and any other column
// reference is an error (PostgreSQL's "must appear in the GROUP BY clause").
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::sql::internal {

class AggregateSplit {
 public:
  /// Adds a grouping expression (duplicates are dropped).
  void AddKey(const expr::Expr& key);
  /// Adds every distinct aggregate call found in `e`.
  void CollectAggregates(const expr::Expr& e);

  /// The Aggregate node over `input`; `position` is used for errors without one.
  Result<plan::Plan> MakePlan(plan::Plan input, int position) const;

  /// `e` rewritten over the output of MakePlan.
  Result<expr::Expr> Rewrite(const expr::Expr& e) const;

 private:
  std::vector<expr::Expr> keys_;
  std::vector<expr::Expr> aggregates_;
};

/// The column name a select item gets when it has no alias (DuckDB-like: "x",
/// "sum(x)", "count_star()", "(a + 1)").
std::string ColumnName(const expr::Expr& e);

}  // namespace sluice::sql::internal
