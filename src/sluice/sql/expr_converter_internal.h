#pragma once
// PostgreSQL expression nodes -> expr::Expr.
//
// Column references are resolved here against a Scope (qualifiers included), so the
// resulting Column nodes already carry their index and expr::Bind keeps it. Functions
// are checked by name and argument count here (for a precise error position); types
// are checked later by expr::Bind. Every node created carries `position`, the byte
// offset of the construct in the query text.
//
// Aggregate calls become expr::Aggregate nodes where the context allows them; the
// query binder splits them out (aggregate_splitter_internal.h).
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <memory>
#include <string>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"
#include "sluice/sql/parse_tree_internal.h"
#include "sluice/sql/scope_internal.h"
#include "sluice/sql/subquery_internal.h"
#include "sluice/sql/window_internal.h"

namespace sluice::sql::internal {

/// Where an expression appears: what it may reference and contain.
struct ExprContext {
  /// Columns it may reference; null when none may be (LIMIT, table function args).
  const Scope* scope = nullptr;
  /// The clause, for error messages ("WHERE", "JOIN condition", "LIMIT", ...).
  std::string clause;
  bool allow_aggregates = false;
  /// Where subqueries are recorded (see subquery_internal.h); null where they are not
  /// allowed.
  SubqueryCollector* subqueries = nullptr;
  /// The enclosing query's scope when this is a subquery's clause (correlated
  /// references); null otherwise.
  CorrelationScope* correlation = nullptr;
  /// Where window function calls are recorded (window_internal.h); null where they are
  /// not allowed.
  WindowCollector* windows = nullptr;
};

class ExprConverter {
 public:
  explicit ExprConverter(const ParseTree& tree) : tree_(tree) {}

  Result<expr::Expr> Convert(const PgNode& node, const ExprContext& ctx);

  /// The Arrow type a TypeName node (a bare field object) denotes.
  Result<std::shared_ptr<arrow::DataType>> ConvertType(const PgNode& type_name);

  /// The value of an expression that must be constant (`what` names it for errors).
  static Result<std::shared_ptr<arrow::Scalar>> ConstantValue(const expr::Expr& e,
                                                              const std::string& what);

 private:
  Result<expr::Expr> ConvertNode(const PgNode& n, bool inside_aggregate);
  Result<std::vector<expr::Expr>> ConvertList(const std::vector<PgNode>& nodes,
                                              bool inside_aggregate);
  Result<expr::Expr> ConvertColumnRef(const PgNode& n);
  Result<expr::Expr> ConvertConst(const PgNode& n);
  Result<expr::Expr> ConvertTypeCast(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertAExpr(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertBoolExpr(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertCase(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertFuncCall(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertAggregate(const PgNode& n, const std::string& name,
                                      bool inside_aggregate);
  Result<expr::Expr> ConvertArray(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertSubLink(const PgNode& n, bool inside_aggregate);
  Result<expr::Expr> ConvertWindow(const PgNode& n, std::string name,
                                   bool inside_aggregate);
  /// A reference to the enclosing query's column (nullptr when there is none).
  Result<expr::Expr> OuterReference(const std::string& table, const std::string& name,
                                    int position);

  const ParseTree& tree_;
  const ExprContext* ctx_ = nullptr;
};

}  // namespace sluice::sql::internal
