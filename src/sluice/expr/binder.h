#pragma once
// Binding: resolves column names against an input schema, checks functions and
// arguments, inserts implicit casts and records the type of every node.
#include <arrow/type.h>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice::expr {

/// Binds `e` against `schema`. Columns already carrying an index (resolved by the SQL
/// binder) are kept; named columns are looked up by exact name, then
/// case-insensitively; an ambiguous or unknown name is an error that lists candidates.
/// Aggregate nodes are rejected unless `allow_aggregates` (their arguments are bound).
Result<Expr> Bind(const Expr& e, const arrow::Schema& schema,
                  bool allow_aggregates = false);

/// Finds a column by name as Bind does; -1 when absent, error when ambiguous.
Result<int> FindColumn(const arrow::Schema& schema, const std::string& name);

/// Replaces constant subtrees by literals (evaluated once). Errors in constant
/// subexpressions (e.g. CAST('x' AS int)) surface here.
Result<Expr> FoldConstants(const Expr& e);

}  // namespace sluice::expr
