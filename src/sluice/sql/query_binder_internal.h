#pragma once
// Binds a SELECT statement of the parse tree to a logical plan.
//
// Plan shapes (bottom-up) for one SELECT block:
//   FROM items (scans, table functions, subqueries, CTEs) joined left to right
//   -> Filter (WHERE)
//   -> Aggregate (GROUP BY / aggregates, see aggregate_split_internal.h) -> Filter
//   (HAVING)
//   -> Project (select list, then hidden ORDER BY columns not in it)
//   -> Aggregate without aggregates (DISTINCT)
//   -> Sort (ORDER BY, on the projected columns) -> Limit
//   -> Project (drops the hidden ORDER BY columns, only if there were any)
// Set operations bind each arm this way, then UNION [ALL] -> Union, INTERSECT / EXCEPT
// -> distinct semi / anti join on all columns (NULLs compare equal), and the ORDER BY
// / LIMIT of the whole statement on top.
//
// One QueryBinder binds one statement; it is not thread-safe.
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/plan/logical_plan.h"
#include "sluice/sql/expr_converter_internal.h"
#include "sluice/sql/parse_tree_internal.h"
#include "sluice/sql/scope_internal.h"
#include "sluice/sql/sql_planner.h"
#include "sluice/sql/subquery_internal.h"

namespace sluice::sql::internal {

class QueryBinder {
 public:
  QueryBinder(const ParseTree& tree, Catalog* catalog)
      : tree_(tree), catalog_(catalog), converter_(tree) {}

  /// Binds a RawStmt (a statement of ParseTree::statements()) that must be a query.
  Result<plan::Plan> BindStatement(const PgNode& raw_stmt);
  /// Binds a RawStmt of any supported kind (statement_binder_internal.cc).
  Result<PlannedStatement> BindAnyStatement(const PgNode& raw_stmt);

 private:
  /// A FROM item or join bound so far: its plan and the names it provides.
  struct Relation {
    plan::Plan plan;
    Scope scope;
    int position = -1;  // where it was written, for errors
  };
  /// A WITH query visible to the statement being bound.
  struct Cte {
    std::string name;
    plan::Plan plan;
    std::vector<std::string> column_names;  // the CTE's output names (after renames)
  };

  /// Set while binding the top SELECT block of a subquery in an expression: the
  /// enclosing scope (for correlated references) and where the correlation goes.
  struct SubqueryFrame {
    const Scope* outer = nullptr;
    BoundSubquery* out = nullptr;
  };

  // Statements other than queries (statement_binder_internal.cc).
  Result<PlannedStatement> BindCreateView(const PgNode& stmt, int position);
  Result<PlannedStatement> BindCreateTableAs(const PgNode& stmt, int position);
  Result<PlannedStatement> BindInsert(const PgNode& stmt, int position);
  Result<PlannedStatement> BindCopy(const PgNode& stmt, int position);
  Result<PlannedStatement> BindDrop(const PgNode& stmt, int position);
  Result<PlannedStatement> BindExplain(const PgNode& stmt, int position);
  /// A SelectStmt (query) with output columns renamed to `names` (a prefix of them).
  Result<plan::Plan> BindRenamed(const PgNode& query, const std::vector<PgNode>& names,
                                 const std::string& what, int position);

  // SELECT statements (the fields of a SelectStmt node).
  Result<plan::Plan> BindSelect(const PgNode& select, SubqueryFrame* frame = nullptr);
  Result<plan::Plan> BindSimpleSelect(const PgNode& select, SubqueryFrame* frame);
  Result<plan::Plan> BindValues(const PgNode& select);
  Result<plan::Plan> BindSetOperation(const PgNode& select);
  Status BindWith(const PgNode& with_clause);
  Result<plan::Plan> ApplyLimit(plan::Plan plan, const PgNode& select);

  // Subqueries in expressions (subquery_internal.h).
  Result<BoundSubquery> BindSubquery(const PendingSubquery& p, const Scope& outer);
  /// WHERE terms over `plan` (whose columns `scope` names): plain terms filter first,
  /// EXISTS / IN terms become semi / anti joins, the rest is filtered after joining in
  /// the subqueries it uses.
  Result<plan::Plan> ApplyWhere(plan::Plan plan, const Scope& scope,
                                const std::vector<expr::Expr>& terms,
                                const std::vector<PendingSubquery>& subqueries);
  /// Joins each subquery into `plan` and records its placeholder's value in `values`.
  Result<plan::Plan> AttachSubqueries(plan::Plan plan, const Scope& scope,
                                      const std::vector<PendingSubquery>& subqueries,
                                      const OuterMapper& map,
                                      std::map<std::string, expr::Expr>* values);

  // FROM.
  Result<Relation> BindFromList(const std::vector<PgNode>& items);
  Result<Relation> BindFromItem(const PgNode& item);
  Result<Relation> BindRangeVar(const PgNode& range_var);
  Result<Relation> BindRangeFunction(const PgNode& range_function);
  // A table by name (a CTE or the catalog's), its columns qualified by `name`.
  Result<Relation> BindTableName(const std::string& name, const std::string& schema,
                                 int position);
  // TUMBLE(table, time_column, size), HOP(table, time_column, slide, size),
  // SESSION(table, time_column, gap): the table's rows with window_start/window_end.
  Result<Relation> BindTimeWindow(const std::string& function, const PgNode& call);
  Result<Relation> BindRangeSubselect(const PgNode& range_subselect);
  Result<Relation> BindJoinExpr(const PgNode& join);
  Result<Relation> Join(Relation left, Relation right, plan::JoinType type,
                        const PgNode& quals,
                        const std::vector<std::string>& using_columns, int position);
  /// Applies a FROM alias: table name and optional column renames.
  Status ApplyAlias(const PgNode& alias, const std::string& default_name, int position,
                    Relation* rel);

  const ParseTree& tree_;
  Catalog* catalog_;
  ExprConverter converter_;
  std::vector<Cte> ctes_;  // innermost last
  int subquery_counter_ = 0;
  int window_counter_ = 0;
  /// Scopes of the queries enclosing the subquery being bound, innermost last.
  std::vector<const Scope*> enclosing_;
};

}  // namespace sluice::sql::internal
