#pragma once
// Subqueries in expressions: scalar, EXISTS, IN / = ANY / <> ALL, correlated or not.
// They are never executed per row: each is planned once and joined into the query
// that uses it (decorrelation), so a correlated subquery costs one join.
//
// How it fits together:
//  1. The expression converter meets a SubLink, records a PendingSubquery in the
//     clause's SubqueryCollector and returns a placeholder column ("__subquery_N",
//     unbound) in its place.
//  2. The query binder binds the subquery's SELECT with a SubqueryFrame: inside its
//     WHERE, a name the subquery cannot resolve is looked up in the enclosing query's
//     scope (a correlated reference). WHERE terms that use such references are taken
//     out of the subquery: `inner = outer` terms become join keys (the inner side is
//     grouped by when the subquery aggregates), other terms an extra join condition.
//  3. The binder joins the result (a BoundSubquery) into the outer plan with one of
//     the functions below and replaces the placeholder by the column(s) it added:
//       WHERE ... AND EXISTS / IN (...)   -> semi join;  NOT EXISTS -> anti join
//       scalar subquery                   -> LEFT join on the correlation keys (cross
//                                            join when uncorrelated) with a one-row-
//                                            per-key check
//       EXISTS / IN anywhere else, NOT IN -> "mark" joins computing SQL's three-valued
//                                            IN: TRUE on a match, NULL when the set
//                                            has NULLs or the value is NULL, else FALSE
// Limits (errors, never silent): correlation to the immediately enclosing query only,
// only in the subquery's WHERE; non-equality correlation only for EXISTS / IN used as
// a top-level WHERE condition; no LIMIT in a correlated subquery.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/logical_plan.h"
#include "sluice/sql/parse_tree_internal.h"
#include "sluice/sql/scope_internal.h"

namespace sluice::sql::internal {

enum class SubqueryKind { kScalar, kExists, kIn };

/// A subquery found by the expression converter, not yet bound.
struct PendingSubquery {
  SubqueryKind kind = SubqueryKind::kScalar;
  PgNode select;     // the SelectStmt
  expr::Expr test;   // kIn: the left operand (over the enclosing clause's scope)
  std::string name;  // the placeholder column's name
  int position = -1;
};

/// Where the converter records the subqueries of one clause.
struct SubqueryCollector {
  std::vector<PendingSubquery> items;
  int* counter = nullptr;  // numbers placeholders uniquely within a statement
};

/// The enclosing query's columns as seen from a subquery's WHERE.
struct CorrelationScope {
  const Scope* outer = nullptr;
  /// Index given to the first outer reference (the subquery's FROM width): outer
  /// reference k is column base + k in the converted expression.
  int base = 0;
  /// outer_index[k]: the enclosing scope index of outer reference k.
  std::vector<int> outer_index;
  /// False outside WHERE: an outer reference there is reported as not supported.
  bool allowed = true;
  /// Queries further out (or, in a set operation or a FROM subquery inside a
  /// subquery, every enclosing query): a reference into them is reported as not
  /// supported instead of as an unknown column.
  std::vector<const Scope*> unreachable;
};

/// Offset of subquery output columns in BoundSubquery::extra (outer columns keep
/// their own indices, which are far below).
inline constexpr int kInnerBase = 1 << 24;

/// A bound subquery, ready to be joined in.
struct BoundSubquery {
  PendingSubquery what;
  /// Output: the `visible` select columns, then hidden columns (correlation keys and
  /// the inner columns the extra condition uses).
  plan::Plan plan;
  int visible = 0;
  /// Equality correlations: outer_keys[i] (over the enclosing scope) equals plan column
  /// key_columns[i].
  std::vector<expr::Expr> outer_keys;
  std::vector<int> key_columns;
  /// Other correlated WHERE terms: outer columns by their enclosing scope index, plan
  /// column j as kInnerBase + j.
  std::vector<expr::Expr> extra;
  /// At most one row per correlation key (one row in all when uncorrelated).
  bool unique_per_key = false;
  /// A scalar subquery's value over no rows when it is not NULL (count(*) -> 0), else
  /// null.
  expr::Expr empty_value;
};

/// The placeholder the converter returns for a subquery.
expr::Expr SubqueryPlaceholder(const std::string& name, int position);
/// True for a placeholder column.
bool IsSubqueryPlaceholder(const expr::Expr& e);
/// True if `e` contains a placeholder.
bool ContainsSubquery(const expr::Expr& e);
/// True if `e` contains the placeholder called `name`.
bool UsesSubquery(const expr::Expr& e, const std::string& name);
/// `e` with placeholders replaced by `values[name]` (every placeholder must be there).
Result<expr::Expr> ReplacePlaceholders(const expr::Expr& e,
                                       const std::map<std::string, expr::Expr>& values);

/// Maps an expression over the enclosing scope onto the plan the subquery is joined
/// to (identity in WHERE; the aggregate split's rewrite after GROUP BY).
using OuterMapper = std::function<Result<expr::Expr>(const expr::Expr&)>;

/// `outer` semi- (or anti-) joined with an EXISTS or IN subquery.
Result<plan::Plan> SemiJoinSubquery(plan::Plan outer, const BoundSubquery& sq, bool anti,
                                    const OuterMapper& map);

/// Joins a subquery into `outer` (appending columns) and returns the expression, over
/// the new plan, that replaces its placeholder.
Result<plan::Plan> AttachSubquery(plan::Plan outer, const BoundSubquery& sq,
                                  const OuterMapper& map, expr::Expr* value);

/// The value of `e` (a select item with aggregates, over the subquery's FROM) when
/// the aggregates see no rows, or null if that is NULL or depends on columns.
Result<expr::Expr> ValueOverNoRows(const expr::Expr& e);

}  // namespace sluice::sql::internal
