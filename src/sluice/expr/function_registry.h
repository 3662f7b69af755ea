#pragma once
// Scalar functions: how each binds (argument checks, implicit casts, result type) and
// how it evaluates (vectorized, mostly over Arrow compute kernels).
//
// Semantics that differ between engines, decided here (docs/design/expressions.md):
// - Integer + - * overflow is an error ("integer overflow in ..."), never wraparound.
// - `/` always divides as double for integer inputs (as DuckDB does); decimals stay
//   decimal. Division or modulo by zero yields NULL.
// - AND/OR/NOT use three-valued logic; `x IN (...)` is NULL when x is NULL or when the
//   list holds a NULL and x matches nothing (SQL's rule).
// - concat() skips NULLs (as DuckDB and PostgreSQL concat do); `||` is NULL if either
//   side is.
// - LIKE/ILIKE patterns, regular expressions, formats and units must be constants.
#include <arrow/datum.h>

#include <functional>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice::expr {

/// What evaluation needs besides the arguments.
struct EvalContext {
  int64_t num_rows = 0;  // rows of the batch being evaluated (to broadcast scalars)
};

struct FunctionDef {
  std::string name;
  int min_args = 0;
  int max_args = 0;  // -1: any number
  /// Checks the bound arguments, may rewrite them (implicit casts) or the whole call.
  /// Returns the call with bound args; the binder fills in the result type afterwards
  /// by evaluating the call on empty input unless bind already set `type`.
  std::function<Result<Expr>(std::shared_ptr<ExprNode> call)> bind;
  std::function<Result<arrow::Datum>(
      const ExprNode& call, std::vector<arrow::Datum>& args, const EvalContext& ctx)>
      eval;
};

/// Looks a scalar function up by lower-case name (built-in ones first, then user
/// functions); null when unknown.
const FunctionDef* FindFunction(const std::string& name);

/// User functions (Python UDFs, docs/design/python.md): scalar functions added while
/// the process runs, for every session. `def.name` must be lower case and not a
/// built-in function's name; registering a user function's name again replaces it.
/// Thread-safe. A FunctionDef once found stays valid until ClearUserFunctions(): a
/// replaced one is kept aside, so a query bound to it can finish.
Status RegisterUserFunction(FunctionDef def);
/// Whether `name` is a user function's (never folded into a constant: expr.h IsConstant).
bool IsUserFunction(const std::string& name);
/// Removes every user function (an embedder's shutdown: the Python module's atexit).
/// REQUIRES: no query is running.
void ClearUserFunctions();

/// True if `name` is an aggregate function (count, sum, avg, ...).
bool IsAggregateFunction(const std::string& name);

/// All scalar function names (for error messages and docs).
std::vector<std::string> FunctionNames();

/// Casts a bound expression to `type` (no-op when it already has it). Literals are cast
/// immediately.
Result<Expr> CastTo(const Expr& e, const std::shared_ptr<arrow::DataType>& type);

}  // namespace sluice::expr
