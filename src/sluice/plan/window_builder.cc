// MakeWindow (plan_builder.h): binding, argument checks, frame checks and result types
// of window functions.
#include <arrow/scalar.h>

#include <cctype>
#include <cmath>

#include "sluice/expr/aggregate_types.h"
#include "sluice/expr/binder.h"
#include "sluice/expr/function_registry.h"
#include "sluice/expr/types.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::plan {

namespace {

using expr::Expr;
using expr::ExprKind;
using TypePtr = std::shared_ptr<arrow::DataType>;
using ScalarPtr = std::shared_ptr<arrow::Scalar>;

Expr StripAlias(const Expr& e) { return e->kind == ExprKind::kAlias ? e->args[0] : e; }

// The key types the sort operator can order by (exec/operators/sort.cc).
bool IsOrderable(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL128:
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
      return true;
    default:
      return false;
  }
}

// ORDER BY key types a RANGE frame with an offset can do arithmetic on.
bool IsRangeKey(const arrow::DataType& t) {
  return expr::IsInteger(t) || expr::IsFloating(t) || t.id() == arrow::Type::DECIMAL128 ||
         t.id() == arrow::Type::DATE32 || t.id() == arrow::Type::DATE64 ||
         t.id() == arrow::Type::TIMESTAMP;
}

// A constant integer argument (after folding), or the error `message`.
Result<int64_t> IntegerConstant(const Expr& bound, const std::string& message) {
  auto folded = expr::FoldConstants(bound);
  if (!folded.ok()) return Status::Invalid(message);
  const Expr& e = *folded;
  if (e->kind != ExprKind::kLiteral || !e->value || !e->value->is_valid ||
      !expr::IsInteger(*e->value->type)) {
    return Status::Invalid(message);
  }
  auto v = e->value->CastTo(arrow::int64());
  if (!v.ok()) return Status::Invalid(message);
  return static_cast<const arrow::Int64Scalar&>(**v).value;
}

Expr Int64Literal(int64_t v) { return expr::Literal(arrow::MakeScalar(v)); }

bool IsNegative(const arrow::Scalar& s) {
  switch (s.type->id()) {
    case arrow::Type::INT64:
      return static_cast<const arrow::Int64Scalar&>(s).value < 0;
    case arrow::Type::DOUBLE:
      return static_cast<const arrow::DoubleScalar&>(s).value < 0;
    case arrow::Type::DECIMAL128:
      return static_cast<const arrow::Decimal128Scalar&>(s).value.IsNegative();
    case arrow::Type::DURATION:
      return static_cast<const arrow::DurationScalar&>(s).value < 0;
    case arrow::Type::INTERVAL_MONTH_DAY_NANO: {
      const auto& v = static_cast<const arrow::MonthDayNanoIntervalScalar&>(s).value;
      return v.months < 0 || v.days < 0 || v.nanoseconds < 0;
    }
    default:
      return false;
  }
}

// Checks a frame bound's offset and returns it normalised for the executor (see
// FrameBound in logical_plan.h).
Result<ScalarPtr> NormaliseOffset(const FrameBound& bound, bool is_start, FrameUnit unit,
                                  const std::vector<SortKey>& order_by) {
  const char* which = is_start ? "starting" : "ending";
  const ScalarPtr& off = bound.offset;
  if (!off || !off->is_valid || off->type->id() == arrow::Type::NA) {
    return Status::Invalid("frame ", which, " offset must not be null");
  }
  const arrow::DataType& ot = *off->type;
  ScalarPtr out;
  if (unit == FrameUnit::kRows) {
    if (!expr::IsInteger(ot)) {
      return Status::TypeError("ROWS frame ", which, " offset must be an integer, got ",
                               expr::TypeName(ot));
    }
    auto v = off->CastTo(arrow::int64());
    if (!v.ok()) return Status::Invalid("ROWS frame ", which, " offset is too large");
    out = *v;
  } else {
    if (order_by.size() != 1 || !IsRangeKey(*order_by[0].expr->type)) {
      return Status::TypeError(
          "RANGE with an offset needs exactly one ORDER BY key of a numeric, date or "
          "timestamp type");
    }
    const TypePtr& kt = order_by[0].expr->type;
    const bool interval = ot.id() == arrow::Type::INTERVAL_MONTH_DAY_NANO ||
                          ot.id() == arrow::Type::DURATION;
    auto cast = [&](const TypePtr& to) -> Status {
      auto v = off->CastTo(to);
      if (!v.ok()) {
        return Status::TypeError("RANGE frame offset ", off->ToString(),
                                 " does not fit the ORDER BY key type ",
                                 expr::TypeName(*kt));
      }
      out = *v;
      return Status::OK();
    };
    if (expr::IsInteger(*kt)) {
      if (!expr::IsInteger(ot)) {
        return Status::TypeError(
            "RANGE frame offset for an integer ORDER BY key must be an integer, got ",
            expr::TypeName(ot));
      }
      ARROW_RETURN_NOT_OK(cast(arrow::int64()));
    } else if (expr::IsFloating(*kt)) {
      if (!expr::IsNumeric(ot)) {
        return Status::TypeError(
            "RANGE frame offset for a floating point ORDER BY key must be a number, got ",
            expr::TypeName(ot));
      }
      ARROW_RETURN_NOT_OK(cast(arrow::float64()));
      if (std::isnan(static_cast<const arrow::DoubleScalar&>(*out).value)) {
        return Status::Invalid("invalid preceding or following size in window function");
      }
    } else if (kt->id() == arrow::Type::DECIMAL128) {
      if (!expr::IsInteger(ot) && !expr::IsDecimal(ot)) {
        return Status::TypeError(
            "RANGE frame offset for a decimal ORDER BY key must be an integer or a "
            "decimal, got ",
            expr::TypeName(ot));
      }
      ARROW_RETURN_NOT_OK(cast(
          arrow::decimal128(38, static_cast<const arrow::DecimalType&>(*kt).scale())));
    } else if (kt->id() == arrow::Type::TIMESTAMP) {
      if (!interval) {
        return Status::TypeError(
            "RANGE frame offset for a timestamp ORDER BY key must be an interval, got ",
            expr::TypeName(ot));
      }
      out = off;
    } else {  // date32, date64
      if (expr::IsInteger(ot)) {
        ARROW_RETURN_NOT_OK(cast(arrow::int64()));  // days
      } else if (interval) {
        out = off;
      } else {
        return Status::TypeError(
            "RANGE frame offset for a date ORDER BY key must be an integer (days) or an "
            "interval, got ",
            expr::TypeName(ot));
      }
    }
  }
  if (IsNegative(*out))
    return Status::Invalid("frame ", which, " offset must not be negative");
  return out;
}

Status CheckFrame(WindowFrame* frame, const std::vector<SortKey>& order_by) {
  using K = FrameBoundKind;
  if (frame->is_default) {
    *frame = WindowFrame{};
    return Status::OK();
  }
  if (frame->start.kind == K::kUnboundedFollowing) {
    return Status::Invalid("frame start cannot be UNBOUNDED FOLLOWING");
  }
  if (frame->end.kind == K::kUnboundedPreceding) {
    return Status::Invalid("frame end cannot be UNBOUNDED PRECEDING");
  }
  if (frame->start.kind == K::kCurrentRow && frame->end.kind == K::kPreceding) {
    return Status::Invalid("frame starting from current row cannot have preceding rows");
  }
  if (frame->start.kind == K::kFollowing &&
      (frame->end.kind == K::kPreceding || frame->end.kind == K::kCurrentRow)) {
    return Status::Invalid(
        "frame starting from following row cannot have preceding rows");
  }
  for (bool is_start : {true, false}) {
    FrameBound& b = is_start ? frame->start : frame->end;
    if (b.kind == K::kPreceding || b.kind == K::kFollowing) {
      ARROW_ASSIGN_OR_RAISE(b.offset,
                            NormaliseOffset(b, is_start, frame->unit, order_by));
    } else {
      b.offset = nullptr;
    }
  }
  return Status::OK();
}

Status NeedArgs(const WindowFunction& f, size_t lo, size_t hi) {
  size_t n = f.args.size();
  if (n >= lo && n <= hi) return Status::OK();
  if (lo == hi) {
    return Status::Invalid(f.name, "() takes ", lo, lo == 1 ? " argument" : " arguments",
                           ", got ", n);
  }
  return Status::Invalid(f.name, "() takes ", lo, " to ", hi, " arguments, got ", n);
}

// Binds one function's arguments in place and returns its result type.
Result<TypePtr> BindFunction(WindowFunction* f, const arrow::Schema& schema) {
  std::string& name = f->name;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "count" &&
      (f->args.empty() || (f->args.size() == 1 && f->args[0]->kind == ExprKind::kStar))) {
    name = "count_star";
    f->args.clear();
  }
  name = expr::CanonicalAggregate(name);
  for (auto& a : f->args) {
    ARROW_ASSIGN_OR_RAISE(a, expr::Bind(StripAlias(a), schema));
    a = StripAlias(a);
  }
  // NULL-typed arguments take a concrete type (as aggregates do: int32).
  auto concrete = [](Expr* e, const TypePtr& type) -> Status {
    if ((*e)->type->id() == arrow::Type::NA) {
      ARROW_ASSIGN_OR_RAISE(*e, expr::CastTo(*e, type));
    }
    return Status::OK();
  };
  auto positive = [&](size_t i) -> Status {
    std::string message = name + "() needs a positive integer constant";
    ARROW_ASSIGN_OR_RAISE(int64_t v, IntegerConstant(f->args[i], message));
    if (v <= 0) return Status::Invalid(message);
    f->args[i] = Int64Literal(v);
    return Status::OK();
  };
  if (name == "row_number" || name == "rank" || name == "dense_rank") {
    ARROW_RETURN_NOT_OK(NeedArgs(*f, 0, 0));
    return arrow::int64();
  }
  if (name == "percent_rank" || name == "cume_dist") {
    ARROW_RETURN_NOT_OK(NeedArgs(*f, 0, 0));
    return arrow::float64();
  }
  if (name == "ntile") {
    ARROW_RETURN_NOT_OK(NeedArgs(*f, 1, 1));
    ARROW_RETURN_NOT_OK(positive(0));
    return arrow::int64();
  }
  if (name == "lag" || name == "lead") {
    ARROW_RETURN_NOT_OK(NeedArgs(*f, 1, 3));
    if (f->args.size() >= 2) {
      ARROW_ASSIGN_OR_RAISE(
          int64_t offset,
          IntegerConstant(f->args[1], name + "() offset must be an integer constant"));
      f->args[1] = Int64Literal(offset);
    }
    TypePtr type = f->args[0]->type;
    if (type->id() == arrow::Type::NA) {
      type = f->args.size() == 3 && f->args[2]->type->id() != arrow::Type::NA
                 ? f->args[2]->type
                 : arrow::int32();
      ARROW_RETURN_NOT_OK(concrete(&f->args[0], type));
    }
    if (f->args.size() == 3 && !f->args[2]->type->Equals(*type)) {
      auto cast = expr::CastTo(f->args[2], type);
      if (!cast.ok()) {
        return Status::TypeError(name, "() default ", expr::ToString(f->args[2]), " (",
                                 expr::TypeName(*f->args[2]->type),
                                 ") cannot be converted to ", expr::TypeName(*type));
      }
      f->args[2] = *cast;
    }
    return type;
  }
  if (name == "first_value" || name == "last_value" || name == "nth_value") {
    ARROW_RETURN_NOT_OK(
        NeedArgs(*f, name == "nth_value" ? 2 : 1, name == "nth_value" ? 2 : 1));
    if (name == "nth_value") ARROW_RETURN_NOT_OK(positive(1));
    ARROW_RETURN_NOT_OK(concrete(&f->args[0], arrow::int32()));
    return f->args[0]->type;
  }
  if (name == "count_star") {
    ARROW_RETURN_NOT_OK(NeedArgs(*f, 0, 0));
    return arrow::int64();
  }
  if (name == "sum" || name == "avg" || name == "min" || name == "max" ||
      name == "count") {
    ARROW_RETURN_NOT_OK(NeedArgs(*f, 1, 1));
    auto agg = std::make_shared<expr::ExprNode>();
    agg->kind = ExprKind::kAggregate;
    agg->name = name;
    agg->args = f->args;
    ARROW_ASSIGN_OR_RAISE(auto type, expr::AggregateResultType(*agg));
    if ((name == "min" || name == "max") && !IsOrderable(*f->args[0]->type)) {
      return Status::TypeError(name, "() needs an argument that can be ordered, got ",
                               expr::TypeName(*f->args[0]->type));
    }
    if (name == "sum") {
      ARROW_RETURN_NOT_OK(concrete(&f->args[0], arrow::int64()));
    } else if (name == "avg") {
      ARROW_RETURN_NOT_OK(concrete(&f->args[0], arrow::float64()));
    } else if (name != "count") {
      ARROW_RETURN_NOT_OK(concrete(&f->args[0], type));
    }
    return type;
  }
  if (expr::IsAggregateFunction(name)) {
    return Status::NotImplemented(name, "() is not supported as a window function");
  }
  return Status::Invalid("unknown window function '", name, "'");
}

}  // namespace

Result<Plan> MakeWindow(Plan input, std::vector<Expr> partition_by,
                        std::vector<SortKey> order_by,
                        std::vector<WindowFunction> functions) {
  const arrow::Schema& schema = *input->schema;
  for (auto& p : partition_by) {
    ARROW_ASSIGN_OR_RAISE(p, expr::Bind(StripAlias(p), schema));
    p = StripAlias(p);
  }
  for (auto& k : order_by) {
    ARROW_ASSIGN_OR_RAISE(k.expr, expr::Bind(StripAlias(k.expr), schema));
    k.expr = StripAlias(k.expr);
    if (!IsOrderable(*k.expr->type)) {
      return Status::TypeError("cannot order a window by ", expr::ToString(k.expr),
                               " of type ", expr::TypeName(*k.expr->type));
    }
  }
  arrow::FieldVector fields = schema.fields();
  for (auto& f : functions) {
    if (f.output_name.empty()) {
      std::string args;
      for (size_t i = 0; i < f.args.size(); ++i) {
        args += (i > 0 ? ", " : "") + expr::ToString(f.args[i]);
      }
      f.output_name = f.name + "(" + args + ")";
    }
    ARROW_ASSIGN_OR_RAISE(auto type, BindFunction(&f, schema));
    ARROW_RETURN_NOT_OK(CheckFrame(&f.frame, order_by));
    fields.push_back(arrow::field(f.output_name, type));
  }
  auto n = std::make_shared<WindowNode>();
  n->schema = arrow::schema(fields);
  n->partition_by = std::move(partition_by);
  n->order_by = std::move(order_by);
  n->functions = std::move(functions);
  n->inputs = {std::move(input)};
  return Plan(n);
}

}  // namespace sluice::plan
