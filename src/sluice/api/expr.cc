#include "sluice/api/expr.h"

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>

#include "sluice/expr/function_registry.h"
#include "sluice/expr/types.h"

namespace sluice {

namespace {

// The first error among `args`, or an error for an empty expression.
Status CheckArgs(const std::vector<Expr>& args, const std::string& context) {
  for (const auto& a : args) {
    if (!a.status().ok()) return a.status();
    if (a.node() == nullptr)
      return Status::Invalid(context, ": an argument is an empty expression");
  }
  return Status::OK();
}

std::vector<expr::Expr> Nodes(const std::vector<Expr>& args) {
  std::vector<expr::Expr> out;
  out.reserve(args.size());
  for (const auto& a : args) out.push_back(a.node());
  return out;
}

Expr Agg(const std::string& name, const std::vector<Expr>& args, bool distinct = false,
         std::vector<std::shared_ptr<arrow::Scalar>> options = {}) {
  Status st = CheckArgs(args, name + "()");
  if (!st.ok()) return Expr::Error(st);
  return Expr(expr::Aggregate(name, Nodes(args), distinct, std::move(options)));
}

// A list literal (cut()'s edges and labels).
template <typename Builder, typename T>
Result<std::shared_ptr<arrow::Scalar>> ListLiteral(const std::vector<T>& values) {
  Builder builder;
  for (const auto& v : values) ARROW_RETURN_NOT_OK(builder.Append(v));
  std::shared_ptr<arrow::Array> array;
  ARROW_RETURN_NOT_OK(builder.Finish(&array));
  return std::make_shared<arrow::ListScalar>(array);
}

}  // namespace

// ---- Literals ---------------------------------------------------------------------

namespace api_internal {

std::shared_ptr<arrow::Scalar> ArithmeticScalar(int64_t v, bool is_signed, int bits) {
  if (bits < 32 || (is_signed && bits == 32)) {
    return std::make_shared<arrow::Int32Scalar>(static_cast<int32_t>(v));
  }
  return std::make_shared<arrow::Int64Scalar>(v);
}

std::shared_ptr<arrow::Scalar> UnsignedScalar(uint64_t v) {
  return std::make_shared<arrow::UInt64Scalar>(v);
}

Expr Binary(const char* op, const Expr& a, const Expr& b) {
  return Expr::MakeCall(op, {a, b});
}

}  // namespace api_internal

Expr lit(const char* value) {
  if (value == nullptr) return lit_null();
  return lit(std::string(value));
}

Expr lit(std::string value) {
  return lit(std::shared_ptr<arrow::Scalar>(
      std::make_shared<arrow::StringScalar>(std::move(value))));
}

Expr lit(std::string_view value) { return lit(std::string(value)); }

Expr lit(std::shared_ptr<arrow::Scalar> value) {
  if (value == nullptr) return lit_null();
  return Expr(expr::Literal(std::move(value)));
}

Expr lit_null(std::shared_ptr<arrow::DataType> type) {
  return Expr(
      expr::Literal(arrow::MakeNullScalar(type ? std::move(type) : arrow::null())));
}

// ---- Expr -------------------------------------------------------------------------

Expr::Expr(const char* column_name) : Expr(col(column_name ? column_name : "")) {}
Expr::Expr(const std::string& column_name) : Expr(col(column_name)) {}

Expr Expr::Error(Status error) {
  Expr e;
  e.status_ = std::move(error);
  return e;
}

std::string Expr::ToString() const {
  if (!status_.ok()) return "<error: " + status_.message() + ">";
  return node_ ? expr::ToString(node_) : "<empty>";
}

Expr Expr::MakeCall(std::string name, const std::vector<Expr>& args) {
  Status st = CheckArgs(args, name);
  if (!st.ok()) return Error(st);
  return Expr(expr::Call(std::move(name), Nodes(args)));
}

Expr Expr::alias(std::string name) const {
  Status st = CheckArgs({*this}, "alias");
  if (!st.ok()) return Error(st);
  if (name.empty()) return Error(Status::Invalid("alias(): the name must not be empty"));
  // Re-aliasing replaces the name rather than nesting aliases.
  const expr::Expr& inner =
      node_->kind == expr::ExprKind::kAlias ? node_->args[0] : node_;
  return Expr(expr::Alias(inner, std::move(name)));
}

Expr Expr::is_null() const { return MakeCall("is_null", {*this}); }
Expr Expr::is_not_null() const { return MakeCall("is_not_null", {*this}); }

Expr Expr::cast(const std::string& type) const {
  auto t = expr::ParseTypeName(type);
  if (!t.ok()) return Error(t.status().WithMessage("cast(): ", t.status().message()));
  return cast(*t);
}

Expr Expr::cast(std::shared_ptr<arrow::DataType> type) const {
  Status st = CheckArgs({*this}, "cast");
  if (!st.ok()) return Error(st);
  if (type == nullptr) return Error(Status::Invalid("cast(): no target type"));
  return Expr(expr::Cast(node_, std::move(type)));
}

Expr Expr::try_cast(const std::string& type) const {
  auto t = expr::ParseTypeName(type);
  if (!t.ok()) return Error(t.status().WithMessage("try_cast(): ", t.status().message()));
  return try_cast(*t);
}

Expr Expr::try_cast(std::shared_ptr<arrow::DataType> type) const {
  Status st = CheckArgs({*this}, "try_cast");
  if (!st.ok()) return Error(st);
  if (type == nullptr) return Error(Status::Invalid("try_cast(): no target type"));
  return Expr(expr::Cast(node_, std::move(type), /*try_cast=*/true));
}

Expr Expr::like(std::string pattern) const {
  return MakeCall("like", {*this, lit(std::move(pattern))});
}
Expr Expr::ilike(std::string pattern) const {
  return MakeCall("ilike", {*this, lit(std::move(pattern))});
}

Expr Expr::isin(const std::vector<Operand>& values) const {
  if (values.empty()) return Error(Status::Invalid("isin(): the value list is empty"));
  std::vector<Expr> args = {*this};
  for (const auto& v : values) args.push_back(v.expr());
  return MakeCall("in", args);
}

Expr Expr::between(const Operand& lo, const Operand& hi) const {
  return MakeCall("between", {*this, lo.expr(), hi.expr()});
}

SortSpec Expr::asc() const { return SortSpec(*this).asc(); }
SortSpec Expr::desc() const { return SortSpec(*this).desc(); }
SortSpec Expr::nulls_first() const { return SortSpec(*this).nulls_first(); }
SortSpec Expr::nulls_last() const { return SortSpec(*this).nulls_last(); }

Expr Expr::operator!() const { return MakeCall("not", {*this}); }
Expr Expr::operator-() const { return MakeCall("negate", {*this}); }

// ---- SortSpec ---------------------------------------------------------------------

SortSpec SortSpec::asc() const {
  SortSpec s = *this;
  s.ascending = true;
  return s;
}
SortSpec SortSpec::desc() const {
  SortSpec s = *this;
  s.ascending = false;
  return s;
}
SortSpec SortSpec::nulls_first() const {
  SortSpec s = *this;
  s.nulls_first_ = true;
  return s;
}
SortSpec SortSpec::nulls_last() const {
  SortSpec s = *this;
  s.nulls_first_ = false;
  return s;
}

// ---- Builders ---------------------------------------------------------------------

Expr col(std::string name) {
  if (name.empty())
    return Expr::Error(Status::Invalid("col(): the column name is empty"));
  return Expr(expr::Column(std::move(name)));
}

Expr star() { return Expr(expr::Star()); }

Expr call(const std::string& name, const std::vector<Expr>& args) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (expr::IsAggregateFunction(lower)) return aggregate(lower, args);
  return Expr::MakeCall(lower, args);
}

Expr lower(const Expr& x) { return Expr::MakeCall("lower", {x}); }
Expr upper(const Expr& x) { return Expr::MakeCall("upper", {x}); }
Expr length(const Expr& x) { return Expr::MakeCall("length", {x}); }
Expr trim(const Expr& x) { return Expr::MakeCall("trim", {x}); }

Expr substr(const Expr& x, int64_t start, std::optional<int64_t> length) {
  if (length) return Expr::MakeCall("substr", {x, lit(start), lit(*length)});
  return Expr::MakeCall("substr", {x, lit(start)});
}

Expr concat(const std::vector<Expr>& parts) {
  if (parts.empty()) return Expr::Error(Status::Invalid("concat(): no arguments"));
  return Expr::MakeCall("concat", parts);
}

Expr replace(const Expr& x, std::string from, std::string to) {
  return Expr::MakeCall("replace", {x, lit(std::move(from)), lit(std::move(to))});
}
Expr contains(const Expr& x, std::string substring) {
  return Expr::MakeCall("contains", {x, lit(std::move(substring))});
}
Expr starts_with(const Expr& x, std::string prefix) {
  return Expr::MakeCall("starts_with", {x, lit(std::move(prefix))});
}

Expr coalesce(const std::vector<Expr>& args) {
  if (args.empty()) return Expr::Error(Status::Invalid("coalesce(): no arguments"));
  return Expr::MakeCall("coalesce", args);
}

Expr nullif(const Expr& x, const Operand& value) {
  return Expr::MakeCall("nullif", {x, value.expr()});
}

CaseBuilder::Pending CaseBuilder::when(const Expr& condition) const {
  Pending p;
  p.args_ = args_;
  p.args_.push_back(condition);
  return p;
}

Expr CaseBuilder::otherwise(const Operand& value) const {
  std::vector<Expr> args = args_;
  args.push_back(value.expr());
  return Expr::MakeCall("case", args);
}

Expr CaseBuilder::end() const { return Expr::MakeCall("case", args_); }

CaseBuilder CaseBuilder::Pending::then(const Operand& value) const {
  CaseBuilder b;
  b.args_ = args_;
  b.args_.push_back(value.expr());
  return b;
}

CaseBuilder::Pending when(const Expr& condition) {
  CaseBuilder::Pending p;
  p.args_.push_back(condition);
  return p;
}

Expr to_timestamp(const Expr& seconds) {
  return Expr::MakeCall("to_timestamp", {seconds});
}
Expr date_trunc(const std::string& unit, const Expr& x) {
  return Expr::MakeCall("date_trunc", {lit(unit), x});
}
Expr date_part(const std::string& field, const Expr& x) {
  return Expr::MakeCall("date_part", {lit(field), x});
}
Expr strftime(const Expr& x, std::string format) {
  return Expr::MakeCall("strftime", {x, lit(std::move(format))});
}

Expr abs(const Expr& x) { return Expr::MakeCall("abs", {x}); }
Expr round(const Expr& x, int digits) {
  if (digits == 0) return Expr::MakeCall("round", {x});
  return Expr::MakeCall("round", {x, lit(digits)});
}
Expr floor(const Expr& x) { return Expr::MakeCall("floor", {x}); }
Expr ceil(const Expr& x) { return Expr::MakeCall("ceil", {x}); }
Expr sqrt(const Expr& x) { return Expr::MakeCall("sqrt", {x}); }

Expr cut(const Expr& x, const std::vector<double>& edges,
         const std::vector<std::string>& labels) {
  auto e = ListLiteral<arrow::DoubleBuilder>(edges);
  if (!e.ok()) return Expr::Error(e.status());
  if (labels.empty()) return Expr::MakeCall("cut", {x, lit(*e)});
  auto l = ListLiteral<arrow::StringBuilder>(labels);
  if (!l.ok()) return Expr::Error(l.status());
  return Expr::MakeCall("cut", {x, lit(*e), lit(*l)});
}

Expr sum(const Expr& x) { return Agg("sum", {x}); }
Expr count(const Expr& x) { return Agg("count", {x}); }
Expr count() { return Agg("count_star", {}); }
Expr count_star() { return Agg("count_star", {}); }
Expr count_distinct(const Expr& x) { return Agg("count", {x}, /*distinct=*/true); }
Expr avg(const Expr& x) { return Agg("avg", {x}); }
Expr mean(const Expr& x) { return Agg("avg", {x}); }
Expr min(const Expr& x) { return Agg("min", {x}); }
Expr max(const Expr& x) { return Agg("max", {x}); }
Expr stddev(const Expr& x) { return Agg("stddev", {x}); }
Expr variance(const Expr& x) { return Agg("variance", {x}); }
Expr median(const Expr& x) { return Agg("median", {x}); }

Expr quantile(const Expr& x, double q) {
  if (!(q >= 0 && q <= 1)) {
    return Expr::Error(
        Status::Invalid("quantile(): the fraction must be between 0 and 1, got ", q));
  }
  return Agg("quantile", {x}, false, {arrow::MakeScalar(q)});
}

Expr first(const Expr& x) { return Agg("first", {x}); }
Expr last(const Expr& x) { return Agg("last", {x}); }
Expr any_value(const Expr& x) { return Agg("any_value", {x}); }
Expr bool_and(const Expr& x) { return Agg("bool_and", {x}); }
Expr bool_or(const Expr& x) { return Agg("bool_or", {x}); }

Expr string_agg(const Expr& x, std::string separator) {
  return Agg("string_agg", {x}, false, {arrow::MakeScalar(std::move(separator))});
}

Expr aggregate(const std::string& name, const std::vector<Expr>& args, bool distinct) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!expr::IsAggregateFunction(lower)) {
    return Expr::Error(Status::Invalid("unknown aggregate function '", name, "'"));
  }
  // The constant arguments of quantile and string_agg are options of the node.
  if (lower == "quantile" || lower == "quantile_cont") {
    if (args.size() != 2 || args[1].node() == nullptr ||
        args[1].node()->kind != expr::ExprKind::kLiteral) {
      return Expr::Error(
          Status::Invalid(name, "() takes a value and a constant fraction"));
    }
    auto q = args[1].node()->value->CastTo(arrow::float64());
    if (!q.ok()) return Expr::Error(q.status());
    return quantile(args[0], static_cast<const arrow::DoubleScalar&>(**q).value);
  }
  if (lower == "string_agg" && args.size() == 2) {
    const auto& sep = args[1].node();
    if (sep == nullptr || sep->kind != expr::ExprKind::kLiteral ||
        !sep->value->is_valid || !expr::IsStringLike(*sep->value->type)) {
      return Expr::Error(
          Status::Invalid("string_agg(): the separator must be a string literal"));
    }
    return string_agg(
        args[0],
        std::string(static_cast<const arrow::BaseBinaryScalar&>(*sep->value).view()));
  }
  if (lower == "count" && args.empty()) return Agg("count_star", {}, distinct);
  return Agg(lower, args, distinct);
}

}  // namespace sluice
