#pragma once
// Expression IR shared by the C++ API, SQL and the planner.
//
// An Expr is an immutable tree (shared_ptr to const node). Unbound expressions refer to
// columns by name; Bind() (binder.h) resolves names against an input schema to column
// indices, applies implicit casts, and records the output type of every node. Only
// bound expressions are evaluated (eval.h).
//
// Kinds:
//   Column     name (unbound) / index (bound) into the input batch
//   Literal    an arrow::Scalar (typed; a null literal has type null until bound)
//   Call       a scalar function by name ("+", "and", "lower", "cast", "case", ...),
//              see function_registry.h for the list and their semantics
//   Aggregate  an aggregate function call (sum, count, ...); only valid as an
//              argument of an Aggregate plan node, never evaluated by eval.h
//   Alias      names its single argument; stripped by projections
//   Star       `*` (select list expansion, count(*))
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::expr {

enum class ExprKind { kColumn, kLiteral, kCall, kAggregate, kAlias, kStar };

struct ExprNode;
using Expr = std::shared_ptr<const ExprNode>;

struct ExprNode {
  ExprKind kind;
  /// Column: name; Call/Aggregate: function name (lower case); Alias: the alias.
  std::string name;
  /// Column: table qualifier if any (SQL "t.x"); informational after binding.
  std::string qualifier;
  /// Column: index into the input schema once bound, else -1.
  int index = -1;
  /// Literal value (Literal only).
  std::shared_ptr<arrow::Scalar> value;
  std::vector<Expr> args;
  /// cast/try_cast target type (Call "cast"/"try_cast" only).
  std::shared_ptr<arrow::DataType> target_type;
  /// Extra constant options for Aggregate (e.g. quantile fraction, separator) or Call.
  std::vector<std::shared_ptr<arrow::Scalar>> options;
  /// Aggregate: DISTINCT.
  bool distinct = false;
  /// Output type once bound; null when unbound.
  std::shared_ptr<arrow::DataType> type;
  /// Byte offset in the SQL text this expression came from (-1 if none), for errors.
  int position = -1;

  bool bound() const { return type != nullptr; }
};

// Builders.
Expr Column(std::string name, std::string qualifier = "");
Expr BoundColumn(int index, std::string name, std::shared_ptr<arrow::DataType> type);
Expr Literal(std::shared_ptr<arrow::Scalar> value);
Expr Call(std::string name, std::vector<Expr> args);
Expr Cast(Expr arg, std::shared_ptr<arrow::DataType> type, bool try_cast = false);
Expr Aggregate(std::string name, std::vector<Expr> args, bool distinct = false,
               std::vector<std::shared_ptr<arrow::Scalar>> options = {});
Expr Alias(Expr arg, std::string name);
/// `e` without the aliases wrapped around it.
Expr StripAliases(Expr e);
Expr Star();

/// A copy of `e` with the given SQL position.
Expr WithPosition(const Expr& e, int position);

/// SQL-like text, e.g. "(price * CAST(qty AS double))".
std::string ToString(const Expr& e);

/// The name a projection gives this expression's column: the alias, the column name,
/// or ToString for anything else.
std::string OutputName(const Expr& e);

/// True when the tree contains an Aggregate node.
bool ContainsAggregate(const Expr& e);
/// True when the tree contains no Column (and no Aggregate/Star): foldable.
bool IsConstant(const Expr& e);
/// False when the tree calls a function whose value may change between evaluations
/// (random(), now()): such a term must be evaluated where it was written, once.
bool IsDeterministic(const Expr& e);
/// Structural equality (names, indices, literal values, types ignored when unbound).
bool Equals(const Expr& a, const Expr& b);
/// Collects the bound column indices used by `e` into `out`.
void CollectColumns(const Expr& e, std::vector<int>* out);
/// Rewrites bound column indices with mapping[old] (which must be >= 0 for used columns).
Expr RemapColumns(const Expr& e, const std::vector<int>& mapping);

/// Splits a conjunction into its terms (a AND b AND c -> [a, b, c]).
void SplitConjunction(const Expr& e, std::vector<Expr>* out);
/// Joins terms with AND (empty -> nullptr).
Expr MakeConjunction(const std::vector<Expr>& terms);

}  // namespace sluice::expr
