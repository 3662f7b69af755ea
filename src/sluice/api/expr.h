#pragma once
// Expressions of the public C++ API: `col("price") * col("qty") > 100`.
//
// sluice::Expr is a value type wrapping an immutable expr::Expr tree (expr/expr.h). It is
// unbound: column names are resolved when a Frame method uses the expression, against
// that frame's schema, and errors (unknown column, wrong types) surface there.
//
// Strings: a bare string is a COLUMN NAME wherever an Expr is expected (select, group_by,
// sort, join keys, function arguments: `lower("name")`), and a LITERAL where a value is
// expected: the other operand of an operator (`col("status") == "completed"`), isin,
// between, then/otherwise. Use lit("text") for a string literal elsewhere and col("x")
// for a column in a value position.
//
// Errors: building an expression never fails loudly. A builder given bad input (an
// unknown type name in cast(), a quantile outside [0, 1]) returns an Expr that carries
// the error; every expression built from it carries it too, and the Frame method that
// receives it returns it.
//
// Thread-safety: Expr values are immutable and may be shared between threads.
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice {

class Expr;
class Operand;
struct SortSpec;

/// A literal of the natural Arrow type for a C++ value: bool -> boolean, integers of up
/// to 32 bits -> int32 (unsigned 32-bit -> int64), 64-bit integers -> int64 (uint64 ->
/// uint64), floating point -> float64, strings -> utf8.
template <typename T>
requires std::is_arithmetic_v<T> Expr lit(T value);
Expr lit(const char* value);
Expr lit(std::string value);
Expr lit(std::string_view value);
/// An Arrow scalar as is (any type, e.g. a date32 or decimal scalar); null -> NULL.
Expr lit(std::shared_ptr<arrow::Scalar> value);
/// A NULL literal, typed if `type` is given (an untyped NULL takes its type from
/// context).
Expr lit_null(std::shared_ptr<arrow::DataType> type = nullptr);

class Expr {
 public:
  /// An empty expression (e.g. "no extra join condition").
  Expr() = default;
  /// A column by name (see the note on strings above).
  Expr(const char* column_name);         // NOLINT(runtime/explicit)
  Expr(const std::string& column_name);  // NOLINT(runtime/explicit)
  /// A literal number or bool: `col("x") + 1`, `coalesce({"x", 0})`.
  template <typename T>
  requires std::is_arithmetic_v<T> Expr(T value)
      : Expr(lit(value)) {}  // NOLINT(runtime/explicit)
  /// Wraps an expression tree of the engine.
  explicit Expr(expr::Expr node) : node_(std::move(node)) {}
  /// An expression that carries `error` (see "Errors" above).
  static Expr Error(Status error);

  bool empty() const { return node_ == nullptr && status_.ok(); }
  /// OK, or the error this expression carries.
  const Status& status() const { return status_; }
  /// The engine's expression tree (null when empty or in error).
  const expr::Expr& node() const { return node_; }
  /// SQL-like text, e.g. "(price * qty)"; the error message if in error.
  std::string ToString() const;

  /// Names the expression's output column.
  Expr alias(std::string name) const;
  Expr is_null() const;
  Expr is_not_null() const;
  /// CAST(this AS type); `type` as in SQL: "bigint", "double", "decimal(12,2)", "date"...
  Expr cast(const std::string& type) const;
  Expr cast(std::shared_ptr<arrow::DataType> type) const;
  /// Like cast, but values that do not convert become NULL.
  Expr try_cast(const std::string& type) const;
  Expr try_cast(std::shared_ptr<arrow::DataType> type) const;

  /// SQL LIKE / ILIKE with a constant pattern (% and _ wildcards).
  Expr like(std::string pattern) const;
  Expr ilike(std::string pattern) const;
  /// x IN (values...), with SQL's NULL semantics.
  Expr isin(const std::vector<Operand>& values) const;
  /// lo <= x AND x <= hi.
  Expr between(const Operand& lo, const Operand& hi) const;

  /// Sort specifications: ascending (NULLs last) / descending (NULLs first), as in
  /// PostgreSQL; nulls_first()/nulls_last() on either side override the NULL placement.
  SortSpec asc() const;
  SortSpec desc() const;
  SortSpec nulls_first() const;
  SortSpec nulls_last() const;

  Expr operator!() const;
  Expr operator-() const;

  /// Builds a call node from already converted arguments, propagating their errors.
  static Expr MakeCall(std::string name, const std::vector<Expr>& args);

 private:
  expr::Expr node_;
  Status status_;
};

/// An argument in a value position: numbers, bools, strings (literal text), Arrow
/// scalars, nullptr (NULL) or any Expr.
class Operand {
 public:
  Operand(const Expr& e) : expr_(e) {}  // NOLINT(runtime/explicit)
  template <typename T>
  requires std::is_arithmetic_v<T> Operand(T value)
      : expr_(lit(value)) {}                              // NOLINT(runtime/explicit)
  Operand(const char* text) : expr_(lit(text)) {}         // NOLINT(runtime/explicit)
  Operand(const std::string& text) : expr_(lit(text)) {}  // NOLINT(runtime/explicit)
  Operand(std::string_view text) : expr_(lit(text)) {}    // NOLINT(runtime/explicit)
  Operand(std::shared_ptr<arrow::Scalar> value)           // NOLINT(runtime/explicit)
      : expr_(lit(std::move(value))) {}
  Operand(std::nullptr_t) : expr_(lit_null()) {}  // NOLINT(runtime/explicit)

  const Expr& expr() const { return expr_; }

 private:
  Expr expr_;
};

/// One sort key: an expression, its direction and where NULLs go.
struct SortSpec {
  SortSpec(const Expr& e) : expr(e) {}                   // NOLINT(runtime/explicit)
  SortSpec(const char* column) : expr(column) {}         // NOLINT(runtime/explicit)
  SortSpec(const std::string& column) : expr(column) {}  // NOLINT(runtime/explicit)

  SortSpec asc() const;
  SortSpec desc() const;
  SortSpec nulls_first() const;
  SortSpec nulls_last() const;
  /// NULLs first: the explicit choice, else the PostgreSQL default (descending only).
  bool effective_nulls_first() const { return nulls_first_.value_or(!ascending); }

  Expr expr;
  bool ascending = true;
  std::optional<bool> nulls_first_;
};

// ---- Builders ---------------------------------------------------------------------

/// A column by name; "t.x" is not split (names may contain dots).
Expr col(std::string name);
/// `*`: every column (in select).
Expr star();

/// Any scalar function of the engine by name (expr/function_registry.h lists them),
/// e.g. call("regexp_replace", {"name", lit("[0-9]+"), lit("#")}).
Expr call(const std::string& name, const std::vector<Expr>& args);

// Strings.
Expr lower(const Expr& x);
Expr upper(const Expr& x);
Expr length(const Expr& x);
Expr trim(const Expr& x);
/// 1-based start, as in SQL; without `length` to the end of the string.
Expr substr(const Expr& x, int64_t start, std::optional<int64_t> length = std::nullopt);
/// Concatenation skipping NULLs (SQL concat()).
Expr concat(const std::vector<Expr>& parts);
Expr replace(const Expr& x, std::string from, std::string to);
Expr contains(const Expr& x, std::string substring);
Expr starts_with(const Expr& x, std::string prefix);

// Conditionals.
/// The first non-NULL argument.
Expr coalesce(const std::vector<Expr>& args);
Expr nullif(const Expr& x, const Operand& value);

/// CASE WHEN ... THEN ... [WHEN ... THEN ...] [ELSE ...] END:
///   when(col("x") > 10).then("high").when(col("x") > 5).then("mid").otherwise("low")
class CaseBuilder {
 public:
  class Pending;
  Pending when(const Expr& condition) const;
  /// Finishes with ELSE value.
  Expr otherwise(const Operand& value) const;
  /// Finishes without ELSE (NULL when no branch matches).
  Expr end() const;

 private:
  friend class Pending;
  std::vector<Expr> args_;  // condition, value, condition, value, ...
};

class CaseBuilder::Pending {
 public:
  CaseBuilder then(const Operand& value) const;

 private:
  friend class CaseBuilder;
  friend Pending when(const Expr& condition);
  std::vector<Expr> args_;  // ends with the pending condition
};

CaseBuilder::Pending when(const Expr& condition);

// Dates and times.
/// Unix seconds (possibly fractional) -> timestamp(us, UTC).
Expr to_timestamp(const Expr& seconds);
/// Truncates to a unit: "year", "quarter", "month", "week", "day", "hour", "minute", ...
Expr date_trunc(const std::string& unit, const Expr& x);
/// A field: "year", "month", "day", "hour", "dow", "doy", "week", "epoch", ...
Expr date_part(const std::string& field, const Expr& x);
Expr strftime(const Expr& x, std::string format);

// Math.
Expr abs(const Expr& x);
Expr round(const Expr& x, int digits = 0);
Expr floor(const Expr& x);
Expr ceil(const Expr& x);
Expr sqrt(const Expr& x);
/// Bins a number: edges [e0, e1, ..., en] make n bins (e_{i-1}, e_i], labelled
/// "(e0, e1]"... or by `labels` (n of them). Values outside the edges are NULL.
Expr cut(const Expr& x, const std::vector<double>& edges,
         const std::vector<std::string>& labels = {});

// Aggregates (only inside Frame::agg / GroupedFrame::agg, or select over a whole frame).
Expr sum(const Expr& x);
/// count(x) counts non-NULL values; count() counts rows.
Expr count(const Expr& x);
Expr count();
Expr count_star();
Expr count_distinct(const Expr& x);
Expr avg(const Expr& x);
Expr mean(const Expr& x);
Expr min(const Expr& x);
Expr max(const Expr& x);
/// Sample standard deviation / variance.
Expr stddev(const Expr& x);
Expr variance(const Expr& x);
/// Continuous (interpolated) median / quantile; q in [0, 1].
Expr median(const Expr& x);
Expr quantile(const Expr& x, double q);
Expr first(const Expr& x);
Expr last(const Expr& x);
Expr any_value(const Expr& x);
Expr bool_and(const Expr& x);
Expr bool_or(const Expr& x);
Expr string_agg(const Expr& x, std::string separator = ",");
/// Any aggregate by name, e.g. aggregate("var_pop", {"x"}).
Expr aggregate(const std::string& name, const std::vector<Expr>& args,
               bool distinct = false);

// ---- Operators --------------------------------------------------------------------
// Templates so that `col("s") == "x"` takes "x" as a literal without ambiguity with
// Expr's column-name constructor; one side must be an Expr.

namespace api_internal {

template <typename T>
concept OperandType = std::same_as<T, Expr> || std::is_arithmetic_v<T> ||
    std::is_convertible_v<const T&, std::string_view> ||
    std::is_convertible_v<const T&, std::shared_ptr<arrow::Scalar>> ||
    std::same_as<T, std::nullptr_t>;

template <typename A, typename B>
concept BinaryOperands = OperandType<A> && OperandType<B> &&
    (std::same_as<A, Expr> || std::same_as<B, Expr>);

template <typename T>
Expr AsOperand(const T& v) {
  if constexpr (std::is_same_v<T, Expr>) {
    return v;
  } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
    return lit_null();
  } else if constexpr (std::is_arithmetic_v<T>) {
    return lit(v);
  } else if constexpr (std::is_convertible_v<const T&, std::shared_ptr<arrow::Scalar>>) {
    return lit(std::shared_ptr<arrow::Scalar>(v));
  } else {
    return lit(std::string_view(v));
  }
}

Expr Binary(const char* op, const Expr& a, const Expr& b);
std::shared_ptr<arrow::Scalar> ArithmeticScalar(int64_t v, bool is_signed, int bits);
std::shared_ptr<arrow::Scalar> UnsignedScalar(uint64_t v);

}  // namespace api_internal

#define SLUICE_API_BINARY_OPERATOR(OP, NAME)                                             \
  template <typename A, typename B>                                                      \
  requires api_internal::BinaryOperands<A, B> Expr operator OP(const A& a, const B& b) { \
    return api_internal::Binary(NAME, api_internal::AsOperand(a),                        \
                                api_internal::AsOperand(b));                             \
  }
SLUICE_API_BINARY_OPERATOR(+, "+")
SLUICE_API_BINARY_OPERATOR(-, "-")
SLUICE_API_BINARY_OPERATOR(*, "*")
SLUICE_API_BINARY_OPERATOR(/, "/")
SLUICE_API_BINARY_OPERATOR(%, "%")
SLUICE_API_BINARY_OPERATOR(==, "=")
SLUICE_API_BINARY_OPERATOR(!=, "<>")
SLUICE_API_BINARY_OPERATOR(<, "<")
SLUICE_API_BINARY_OPERATOR(<=, "<=")
SLUICE_API_BINARY_OPERATOR(>, ">")
SLUICE_API_BINARY_OPERATOR(>=, ">=")
SLUICE_API_BINARY_OPERATOR(&&, "and")
SLUICE_API_BINARY_OPERATOR(||, "or")
#undef SLUICE_API_BINARY_OPERATOR

template <typename T>
requires std::is_arithmetic_v<T> Expr lit(T value) {
  if constexpr (std::is_same_v<T, bool>) {
    return lit(
        std::shared_ptr<arrow::Scalar>(std::make_shared<arrow::BooleanScalar>(value)));
  } else if constexpr (std::is_floating_point_v<T>) {
    return lit(std::shared_ptr<arrow::Scalar>(
        std::make_shared<arrow::DoubleScalar>(static_cast<double>(value))));
  } else if constexpr (std::is_signed_v<T> || sizeof(T) < 8) {
    return lit(api_internal::ArithmeticScalar(static_cast<int64_t>(value),
                                              std::is_signed_v<T>,
                                              static_cast<int>(sizeof(T) * 8)));
  } else {
    return lit(api_internal::UnsignedScalar(static_cast<uint64_t>(value)));
  }
}

}  // namespace sluice
