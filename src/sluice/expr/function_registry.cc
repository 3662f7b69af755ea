#include "sluice/expr/function_registry.h"

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_decimal.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/array/util.h>
#include <arrow/compute/api.h>
#include <arrow/scalar.h>
#include <arrow/util/decimal.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include "sluice/base/text.h"
#include "sluice/expr/decimal_kernels.h"
#include "sluice/expr/decimal_to_double.h"
#include "sluice/expr/eval.h"
#include "sluice/expr/like.h"
#include "sluice/expr/types.h"

namespace sluice::expr {

namespace cp = arrow::compute;
using arrow::Datum;
using arrow::Type;

namespace {

using Args = std::vector<Datum>;

// True for a string/binary array whose data does not start at its buffers' start: a
// slice (offset != 0) or an array whose first value offset is not 0.
bool IsShiftedBinaryArray(const Datum& d) {
  if (!d.is_array() || !arrow::is_base_binary_like(d.type()->id())) return false;
  const arrow::ArrayData& a = *d.array();
  if (a.offset != 0) return true;
  if (a.length == 0 || a.buffers.size() < 2 || a.buffers[1] == nullptr) return false;
  return arrow::is_large_binary_like(d.type()->id()) ? a.GetValues<int64_t>(1)[0] != 0
                                                     : a.GetValues<int32_t>(1)[0] != 0;
}

Result<Datum> Call(const std::string& name, const Args& args,
                   const cp::FunctionOptions* options = nullptr) {
  // Arrow's if_else (before apache/arrow#49443, so in the pinned pyarrow 22) copies the
  // offsets of a sliced string/binary array unadjusted when the other branch is a null
  // scalar: the result has invalid offsets and garbage strings (apache/arrow#41479).
  // Found by fuzz_sql (nullif(s, '') over a table split into morsels). Passing the null
  // as an array of nulls takes Arrow's array-array path, which is right.
  if (name == "if_else" && args.size() == 3) {
    for (int i : {1, 2}) {
      const Datum& other = args[3 - i];
      if (args[i].is_scalar() && !args[i].scalar()->is_valid &&
          IsShiftedBinaryArray(other)) {
        Args fixed = args;
        ARROW_ASSIGN_OR_RAISE(fixed[i],
                              arrow::MakeArrayOfNull(other.type(), other.length()));
        return cp::CallFunction(name, fixed, options);
      }
    }
  }
  return cp::CallFunction(name, args, options);
}

// A constant argument as a scalar (functions whose patterns/units must be constant).
Result<std::shared_ptr<arrow::Scalar>> ConstArg(const ExprNode& call, const Args& args,
                                                size_t i, const char* what) {
  if (!args[i].is_scalar()) {
    return Status::Invalid(call.name, "(): ", what, " must be a constant");
  }
  return args[i].scalar();
}

Result<std::string> ConstString(const ExprNode& call, const Args& args, size_t i,
                                const char* what) {
  ARROW_ASSIGN_OR_RAISE(auto s, ConstArg(call, args, i, what));
  if (!s->is_valid) return Status::Invalid(call.name, "(): ", what, " must not be NULL");
  if (!IsStringLike(*s->type)) {
    return Status::TypeError(call.name, "(): ", what, " must be a string");
  }
  return std::string(static_cast<const arrow::BaseBinaryScalar&>(*s).view());
}

Result<int64_t> ConstInt(const ExprNode& call, const Args& args, size_t i,
                         const char* what) {
  ARROW_ASSIGN_OR_RAISE(auto s, ConstArg(call, args, i, what));
  if (!s->is_valid) return Status::Invalid(call.name, "(): ", what, " must not be NULL");
  ARROW_ASSIGN_OR_RAISE(auto c, s->CastTo(arrow::int64()));
  return static_cast<const arrow::Int64Scalar&>(*c).value;
}

std::shared_ptr<ExprNode> Copy(const Expr& e) { return std::make_shared<ExprNode>(*e); }

bool IsNullType(const Expr& e) { return e->type && e->type->id() == Type::NA; }
bool IsInterval(const arrow::DataType& t) {
  return t.id() == Type::INTERVAL_MONTH_DAY_NANO;
}

// ---- binding rules ----------------------------------------------------------------

// Makes the arguments of a comparison comparable: string constants against temporal or
// numeric columns are cast to the column's type; dates against timestamps widen.
Result<Expr> BindComparison(std::shared_ptr<ExprNode> call) {
  auto& a = call->args[0];
  auto& b = call->args[1];
  auto ta = a->type, tb = b->type;
  if (ta->Equals(*tb)) return Expr(call);
  if (IsStringLike(*ta) && a->kind == ExprKind::kLiteral && !IsStringLike(*tb)) {
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, tb));
  } else if (IsStringLike(*tb) && b->kind == ExprKind::kLiteral && !IsStringLike(*ta)) {
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, ta));
  } else if (IsNullType(a)) {
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, tb));
  } else if (IsNullType(b)) {
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, ta));
  } else if ((IsTemporal(*ta) && IsTemporal(*tb)) ||
             (IsStringLike(*ta) && IsStringLike(*tb)) ||
             (IsDecimal(*ta) || IsDecimal(*tb))) {
    ARROW_ASSIGN_OR_RAISE(auto common, CommonType(ta, tb));
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, common));
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, common));
  } else if (!(IsNumeric(*ta) && IsNumeric(*tb))) {
    return Status::TypeError("cannot compare ", TypeName(*ta), " with ", TypeName(*tb),
                             " in ", ToString(call));
  } else if (IsInteger(*ta) && IsInteger(*tb) &&
             (a->kind == ExprKind::kLiteral || b->kind == ExprKind::kLiteral)) {
    // An integer constant takes the column's type when it fits (so `u > 5` stays a
    // comparison of the unsigned column, usable for pruning); otherwise both sides
    // widen to a common type.
    auto& lit = a->kind == ExprKind::kLiteral ? a : b;
    auto& other = a->kind == ExprKind::kLiteral ? b : a;
    auto narrowed = CastTo(lit, other->type);
    if (narrowed.ok()) {
      lit = *narrowed;
    } else {
      ARROW_ASSIGN_OR_RAISE(auto common, CommonType(ta, tb));
      ARROW_ASSIGN_OR_RAISE(a, CastTo(a, common));
      ARROW_ASSIGN_OR_RAISE(b, CastTo(b, common));
    }
  } else {
    // Mixed numeric types compare in their common type (integers with floats as
    // double), with explicit casts so that large integers convert (rounding) instead
    // of failing Arrow's exactness check.
    ARROW_ASSIGN_OR_RAISE(auto common, CommonType(ta, tb));
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, common));
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, common));
  }
  call->type = arrow::boolean();
  return Expr(call);
}

// Unifies all (or the selected) arguments to their common type.
Status UnifyArgs(ExprNode* call, size_t first, size_t step, bool include_last) {
  std::shared_ptr<arrow::DataType> common = arrow::null();
  auto pick = [&](size_t i) {
    return i >= first && (i - first) % step == 0 &&
           (include_last || i + 1 < call->args.size() || step == 1);
  };
  for (size_t i = 0; i < call->args.size(); ++i) {
    if (!pick(i)) continue;
    ARROW_ASSIGN_OR_RAISE(common, CommonType(common, call->args[i]->type));
  }
  for (size_t i = 0; i < call->args.size(); ++i) {
    if (!pick(i)) continue;
    ARROW_ASSIGN_OR_RAISE(call->args[i], CastTo(call->args[i], common));
  }
  return Status::OK();
}

Status RequireBool(const ExprNode& call) {
  for (const auto& a : call.args) {
    if (a->type->id() != Type::BOOL && a->type->id() != Type::NA) {
      return Status::TypeError(call.name, " needs boolean arguments, got ",
                               TypeName(*a->type), " (", ToString(a), ")");
    }
  }
  return Status::OK();
}

Result<Expr> BindLogical(std::shared_ptr<ExprNode> call) {
  ARROW_RETURN_NOT_OK(RequireBool(*call));
  for (auto& a : call->args) {
    if (IsNullType(a)) {
      ARROW_ASSIGN_OR_RAISE(a, CastTo(a, arrow::boolean()));
    }
  }
  call->type = arrow::boolean();
  return Expr(call);
}

Result<Expr> BindArithmetic(std::shared_ptr<ExprNode> call) {
  auto& a = call->args[0];
  auto& b = call->args[1];
  if (IsNullType(a)) {
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, IsNullType(b) ? arrow::int64() : b->type));
  }
  if (IsNullType(b)) {
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, a->type));
  }
  // Copies: a and b may be replaced below.
  const std::shared_ptr<arrow::DataType> ta = a->type, tb = b->type;
  if (IsInterval(*ta) || IsInterval(*tb)) {
    const auto& other = IsInterval(*ta) ? tb : ta;
    const auto& interval = IsInterval(*ta) ? a : b;
    if (!IsTemporal(*other) || (call->name != "+" && call->name != "-") ||
        (IsInterval(*ta) && call->name == "-")) {
      return Status::TypeError("cannot apply ", call->name, " to ", TypeName(*ta),
                               " and ", TypeName(*tb));
    }
    // A date plus whole days or months stays a date; anything finer gives a timestamp.
    bool whole_days = false;
    if (interval->kind == ExprKind::kLiteral && interval->value &&
        interval->value->is_valid) {
      whole_days = static_cast<const arrow::MonthDayNanoIntervalScalar&>(*interval->value)
                       .value.nanoseconds == 0;
    }
    if (other->id() == Type::TIMESTAMP) {
      call->type = other;
    } else {
      call->type = whole_days ? std::shared_ptr<arrow::DataType>(arrow::date32())
                              : arrow::timestamp(arrow::TimeUnit::MICRO);
    }
    return Expr(call);
  }
  if (IsStringLike(*ta) || IsStringLike(*tb)) {
    return Status::TypeError("cannot apply ", call->name, " to ", TypeName(*ta), " and ",
                             TypeName(*tb), " in ", ToString(call),
                             " (use || or concat() for strings)");
  }
  if (!IsNumeric(*ta) || !IsNumeric(*tb)) {
    // date +/- integer days (and integer + date), as PostgreSQL and DuckDB.
    bool date_days = (ta->id() == Type::DATE32 && IsInteger(*tb) &&
                      (call->name == "+" || call->name == "-")) ||
                     (IsInteger(*ta) && tb->id() == Type::DATE32 && call->name == "+");
    if (date_days) {
      call->type = arrow::date32();
      return Expr(call);
    }
    if (ta->id() == Type::DATE32 && tb->id() == Type::DATE32 && call->name == "-") {
      call->type = arrow::int64();  // days between, as PostgreSQL and DuckDB
      return Expr(call);
    }
    if (IsTemporal(*ta) || IsTemporal(*tb))
      return Expr(call);  // Arrow's temporal kernels
    return Status::TypeError("cannot apply ", call->name, " to ", TypeName(*ta), " and ",
                             TypeName(*tb));
  }
  // Division of integers or decimals is done in double, as DuckDB does (decimal
  // division has no exact result type anyway).
  bool as_double = (call->name == "/" && !(IsFloating(*ta) || IsFloating(*tb))) ||
                   IsFloating(*ta) || IsFloating(*tb);
  if (as_double) {
    // Integers and decimals meet floats as double (explicit casts round large integers
    // instead of failing Arrow's exactness check).
    auto ft =
        (ta->id() == Type::FLOAT && tb->id() == Type::FLOAT) ? ta : arrow::float64();
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, ft));
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, ft));
  } else if (call->name == "%" ||
             (IsInteger(*ta) && IsInteger(*tb) && !ta->Equals(*tb))) {
    ARROW_ASSIGN_OR_RAISE(auto common, CommonType(ta, tb));
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, common));
    ARROW_ASSIGN_OR_RAISE(b, CastTo(b, common));
  }
  return Expr(call);
}

Result<Expr> BindUnifyAll(std::shared_ptr<ExprNode> call) {
  ARROW_RETURN_NOT_OK(UnifyArgs(call.get(), 0, 1, true));
  call->type = call->args[0]->type;
  return Expr(call);
}

Result<Expr> BindCase(std::shared_ptr<ExprNode> call) {
  size_t n = call->args.size();
  bool has_else = n % 2 == 1;
  for (size_t i = 0; i + 1 < n || (!has_else && i < n); i += 2) {
    auto& c = call->args[i];
    if (c->type->id() == Type::NA) {
      ARROW_ASSIGN_OR_RAISE(c, CastTo(c, arrow::boolean()));
    }
    if (c->type->id() != Type::BOOL) {
      return Status::TypeError("CASE WHEN condition must be boolean: ", ToString(c));
    }
  }
  // Values: odd positions, plus the trailing else.
  std::shared_ptr<arrow::DataType> common = arrow::null();
  std::vector<size_t> value_idx;
  for (size_t i = 1; i < n; i += 2) value_idx.push_back(i);
  if (has_else) value_idx.push_back(n - 1);
  for (size_t i : value_idx) {
    ARROW_ASSIGN_OR_RAISE(common, CommonType(common, call->args[i]->type));
  }
  for (size_t i : value_idx) {
    ARROW_ASSIGN_OR_RAISE(call->args[i], CastTo(call->args[i], common));
  }
  call->type = common;
  return Expr(call);
}

Result<Expr> BindIn(std::shared_ptr<ExprNode> call) {
  ARROW_RETURN_NOT_OK(UnifyArgs(call.get(), 0, 1, true));
  call->type = arrow::boolean();
  return Expr(call);
}

Result<Expr> BindString(std::shared_ptr<ExprNode> call) {
  auto& a = call->args[0];
  if (IsNullType(a)) {
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, arrow::utf8()));
  }
  if (!IsStringLike(*a->type)) {
    return Status::TypeError(call->name, "() needs a string, got ", TypeName(*a->type),
                             " (", ToString(a), ")");
  }
  return Expr(call);
}

Result<Expr> BindConcat(std::shared_ptr<ExprNode> call) {
  for (auto& a : call->args) {
    if (!IsStringLike(*a->type)) {
      ARROW_ASSIGN_OR_RAISE(a, CastTo(a, arrow::utf8()));
    }
  }
  ARROW_RETURN_NOT_OK(UnifyArgs(call.get(), 0, 1, true));
  call->type = call->args[0]->type;
  return Expr(call);
}

Result<Expr> BindNumeric(std::shared_ptr<ExprNode> call) {
  for (auto& a : call->args) {
    if (IsNullType(a)) {
      ARROW_ASSIGN_OR_RAISE(a, CastTo(a, arrow::float64()));
    }
    if (!IsNumeric(*a->type)) {
      return Status::TypeError(call->name, "() needs a number, got ", TypeName(*a->type));
    }
  }
  return Expr(call);
}

Result<Expr> BindFloat(std::shared_ptr<ExprNode> call) {
  ARROW_ASSIGN_OR_RAISE(auto e, BindNumeric(call));
  auto n = Copy(e);
  for (auto& a : n->args) {
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, arrow::float64()));
  }
  return Expr(n);
}

Result<Expr> BindCast(std::shared_ptr<ExprNode> call) {
  if (!call->target_type) return Status::Invalid("cast without a target type");
  call->type = call->target_type;
  return Expr(call);
}

Result<Expr> BindTemporal(std::shared_ptr<ExprNode> call) {
  // Last argument is the temporal value (date_part('year', x) / year(x)).
  auto& a = call->args.back();
  if (IsStringLike(*a->type) && a->kind == ExprKind::kLiteral) {
    ARROW_ASSIGN_OR_RAISE(a, CastTo(a, arrow::timestamp(arrow::TimeUnit::MICRO)));
  }
  if (!IsTemporal(*a->type) && a->type->id() != Type::NA) {
    return Status::TypeError(call->name, "() needs a date or timestamp, got ",
                             TypeName(*a->type));
  }
  return Expr(call);
}

// ---- evaluation helpers --------------------------------------------------------------

Result<std::shared_ptr<arrow::Array>> ToArray(const Datum& d, const EvalContext& ctx) {
  if (d.is_scalar()) return arrow::MakeArrayFromScalar(*d.scalar(), ctx.num_rows);
  return d.make_array();
}

// Replaces zeros in `divisor` by nulls (division/modulo by zero yields NULL).
Result<Datum> ZeroToNull(const Datum& divisor) {
  std::shared_ptr<arrow::Scalar> zero;
  if (divisor.type()->id() == Type::DECIMAL128) {
    zero =
        std::make_shared<arrow::Decimal128Scalar>(arrow::Decimal128(0), divisor.type());
  } else {
    ARROW_ASSIGN_OR_RAISE(zero, arrow::MakeScalar(int64_t{0})->CastTo(divisor.type()));
  }
  ARROW_ASSIGN_OR_RAISE(auto is_zero, Call("equal", {divisor, Datum(zero)}));
  return Call("if_else",
              {is_zero, Datum(arrow::MakeNullScalar(divisor.type())), divisor});
}

Result<Datum> EvalArithmetic(const ExprNode& call, Args& args, const EvalContext& ctx);

// timestamp/date +- interval (month_day_nano).
Result<Datum> AddInterval(const ExprNode& call, Args& args, const EvalContext& ctx) {
  bool interval_first = IsInterval(*args[0].type());
  Datum value = interval_first ? args[1] : args[0];
  Datum interval = interval_first ? args[0] : args[1];
  if (!interval.is_scalar()) {
    return Status::NotImplemented("interval arithmetic needs a constant interval");
  }
  const auto& iv =
      static_cast<const arrow::MonthDayNanoIntervalScalar&>(*interval.scalar());
  if (!iv.is_valid) return Datum(arrow::MakeNullScalar(call.type));
  int sign = call.name == "-" ? -1 : 1;
  int32_t months = sign * iv.value.months;
  int32_t days = sign * iv.value.days;
  int64_t nanos = sign * iv.value.nanoseconds;
  auto out_type = call.type;
  // Work in timestamp(us) (or the input unit) space.
  std::shared_ptr<arrow::DataType> ts_type =
      value.type()->id() == Type::TIMESTAMP ? value.type()
                                            : arrow::timestamp(arrow::TimeUnit::MICRO);
  ARROW_ASSIGN_OR_RAISE(auto as_ts, cp::Cast(value, ts_type));
  ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(as_ts, ctx));
  const auto& tst = static_cast<const arrow::TimestampType&>(*ts_type);
  int64_t per_second = tst.unit() == arrow::TimeUnit::SECOND  ? 1
                       : tst.unit() == arrow::TimeUnit::MILLI ? 1000
                       : tst.unit() == arrow::TimeUnit::MICRO ? 1000000
                                                              : 1000000000;
  int64_t per_day = per_second * 86400;
  int64_t nano_units = nanos / (1000000000 / per_second);
  auto data = arr->data();
  const int64_t* in = data->GetValues<int64_t>(1);
  arrow::TimestampBuilder builder(ts_type, arrow::default_memory_pool());
  ARROW_RETURN_NOT_OK(builder.Reserve(arr->length()));
  using namespace std::chrono;
  for (int64_t i = 0; i < arr->length(); ++i) {
    if (arr->IsNull(i)) {
      builder.UnsafeAppendNull();
      continue;
    }
    int64_t v = in[i];
    if (months != 0) {
      int64_t day = v >= 0 ? v / per_day : -((-v + per_day - 1) / per_day);
      int64_t rem = v - day * per_day;
      year_month_day ymd{sys_days{std::chrono::days{day}}};
      auto ym = year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
      auto last = year_month_day_last{ym.year(), month_day_last{ym.month()}}.day();
      auto d = ymd.day() > last ? last : ymd.day();
      int64_t new_day =
          sys_days{year_month_day{ym.year(), ym.month(), d}}.time_since_epoch().count();
      v = new_day * per_day + rem;
    }
    v += static_cast<int64_t>(days) * per_day + nano_units;
    builder.UnsafeAppend(v);
  }
  ARROW_ASSIGN_OR_RAISE(auto result, builder.Finish());
  if (!out_type->Equals(*ts_type)) return cp::Cast(result, out_type);
  return Datum(result);
}

Result<Datum> WideDecimalArithmetic(const std::string& op, const Args& args,
                                    const EvalContext& ctx);

Result<Datum> Modulo(const Args& args, const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto divisor, ZeroToNull(args[1]));
  // a % b = a - trunc(a / b) * b, computed per type.
  auto type = args[0].type();
  if (IsFloating(*type)) {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], ctx));
    ARROW_ASSIGN_OR_RAISE(auto b, ToArray(divisor, ctx));
    ARROW_ASSIGN_OR_RAISE(auto a64, cp::Cast(a, arrow::float64()));
    ARROW_ASSIGN_OR_RAISE(auto b64, cp::Cast(b, arrow::float64()));
    auto av = a64.make_array();
    auto bv = b64.make_array();
    arrow::DoubleBuilder builder;
    ARROW_RETURN_NOT_OK(builder.Reserve(av->length()));
    const double* x = av->data()->GetValues<double>(1);
    const double* y = bv->data()->GetValues<double>(1);
    for (int64_t i = 0; i < av->length(); ++i) {
      if (av->IsNull(i) || bv->IsNull(i)) {
        builder.UnsafeAppendNull();
      } else {
        builder.UnsafeAppend(std::fmod(x[i], y[i]));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto out, builder.Finish());
    return cp::Cast(out, type);
  }
  if (IsInteger(*type)) {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], ctx));
    ARROW_ASSIGN_OR_RAISE(auto b, ToArray(divisor, ctx));
    ARROW_ASSIGN_OR_RAISE(auto a64d, cp::Cast(a, arrow::int64()));
    ARROW_ASSIGN_OR_RAISE(auto b64d, cp::Cast(b, arrow::int64()));
    auto av = a64d.make_array();
    auto bv = b64d.make_array();
    arrow::Int64Builder builder;
    ARROW_RETURN_NOT_OK(builder.Reserve(av->length()));
    const int64_t* x = av->data()->GetValues<int64_t>(1);
    const int64_t* y = bv->data()->GetValues<int64_t>(1);
    for (int64_t i = 0; i < av->length(); ++i) {
      if (av->IsNull(i) || bv->IsNull(i)) {
        builder.UnsafeAppendNull();
      } else if (y[i] == -1) {
        builder.UnsafeAppend(0);  // avoids INT64_MIN % -1 overflow
      } else {
        builder.UnsafeAppend(x[i] % y[i]);
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto out, builder.Finish());
    return cp::Cast(out, type);
  }
  // Decimal: exact, in 128 bits.
  return WideDecimalArithmetic("%", args, ctx);
}

// Decimal + - * whose exact result type would need more than 38 digits (e.g.
// decimal(38,2) + 1): the result is decimal(38, s) (+/-: the larger scale, *: the sum
// of scales), and a value that does not fit in 38 digits is an overflow error.
Result<Datum> WideDecimalArithmetic(const std::string& op, const Args& args,
                                    const EvalContext& ctx) {
  auto scale_of = [](const arrow::DataType& t) {
    return IsDecimal(t) ? static_cast<const arrow::DecimalType&>(t).scale() : 0;
  };
  int sa = scale_of(*args[0].type()), sb = scale_of(*args[1].type());
  int scale = op == "*" ? sa + sb : std::max(sa, sb);  // + - %: the larger scale
  if (scale > 38) return Status::Invalid("decimal overflow in ", op, ": scale above 38");
  // Bring both sides to 38 digits: +/- at the common scale, * at their own scales.
  auto widen = [&](const Datum& d, int s) -> Result<std::shared_ptr<arrow::Array>> {
    ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(d, ctx));
    auto r = cp::Cast(arr, cp::CastOptions::Safe(arrow::decimal128(38, s)));
    if (!r.ok())
      return Status::Invalid("decimal overflow in ", op, ": ", r.status().message());
    return r->make_array();
  };
  ARROW_ASSIGN_OR_RAISE(auto x, widen(args[0], op == "*" ? sa : scale));
  ARROW_ASSIGN_OR_RAISE(auto y, widen(args[1], op == "*" ? sb : scale));
  const auto& xa = static_cast<const arrow::Decimal128Array&>(*x);
  const auto& ya = static_cast<const arrow::Decimal128Array&>(*y);
  auto type = arrow::decimal128(38, scale);
  arrow::Decimal128Builder builder(type);
  ARROW_RETURN_NOT_OK(builder.Reserve(xa.length()));
  // 10^38: the first value that does not fit in 38 digits.
  const __int128 limit = [] {
    __int128 v = 1;
    for (int i = 0; i < 38; ++i) v *= 10;
    return v;
  }();
  auto as_int128 = [](const arrow::Decimal128& d) {
    return static_cast<__int128>(
        (static_cast<unsigned __int128>(static_cast<uint64_t>(d.high_bits())) << 64) |
        d.low_bits());
  };
  for (int64_t i = 0; i < xa.length(); ++i) {
    if (xa.IsNull(i) || ya.IsNull(i)) {
      builder.UnsafeAppendNull();
      continue;
    }
    __int128 p = as_int128(arrow::Decimal128(xa.GetValue(i)));
    __int128 q = as_int128(arrow::Decimal128(ya.GetValue(i)));
    __int128 v = 0;
    if (op == "%") {
      if (q == 0) {  // modulo by zero is NULL
        builder.UnsafeAppendNull();
        continue;
      }
      builder.UnsafeAppend(arrow::Decimal128(static_cast<int64_t>((p % q) >> 64),
                                             static_cast<uint64_t>(p % q)));
      continue;
    }
    bool overflow = op == "+"   ? __builtin_add_overflow(p, q, &v)
                    : op == "-" ? __builtin_sub_overflow(p, q, &v)
                                : __builtin_mul_overflow(p, q, &v);
    if (overflow || v >= limit || v <= -limit) {
      return Status::Invalid("decimal overflow in ", op,
                             ": the result needs more than 38 digits");
    }
    builder.UnsafeAppend(
        arrow::Decimal128(static_cast<int64_t>(v >> 64), static_cast<uint64_t>(v)));
  }
  ARROW_ASSIGN_OR_RAISE(auto out, builder.Finish());
  if (args[0].is_scalar() && args[1].is_scalar()) return out->GetScalar(0);
  return Datum(out);
}

Result<Datum> EvalArithmetic(const ExprNode& call, Args& args, const EvalContext& ctx) {
  if (IsInterval(*args[0].type()) || IsInterval(*args[1].type())) {
    return AddInterval(call, args, ctx);
  }
  if (call.type &&
      (call.type->id() == Type::DATE32 ||
       (call.type->id() == Type::INT64 && args[0].type()->id() == Type::DATE32))) {
    // date +/- days, and date - date: in days since the epoch, as int32.
    Args days = args;
    for (auto& d : days) {
      if (d.type()->id() == Type::DATE32) {
        if (d.is_scalar()) {
          if (!d.scalar()->is_valid) return Datum(arrow::MakeNullScalar(call.type));
          d = Datum(std::make_shared<arrow::Int32Scalar>(
              static_cast<const arrow::Date32Scalar&>(*d.scalar()).value,
              arrow::int32()));
        } else {
          ARROW_ASSIGN_OR_RAISE(auto v, d.make_array()->View(arrow::int32()));
          d = Datum(v);
        }
      } else {
        ARROW_ASSIGN_OR_RAISE(d, cp::Cast(d, arrow::int32()));
      }
    }
    ARROW_ASSIGN_OR_RAISE(
        auto sum, Call(call.name == "+" ? "add_checked" : "subtract_checked", days));
    if (call.type->id() == Type::INT64) return cp::Cast(sum, arrow::int64());
    if (sum.is_scalar()) {
      const auto& s = static_cast<const arrow::Int32Scalar&>(*sum.scalar());
      if (!s.is_valid) return Datum(arrow::MakeNullScalar(call.type));
      return Datum(std::make_shared<arrow::Date32Scalar>(s.value));
    }
    ARROW_ASSIGN_OR_RAISE(auto out, sum.make_array()->View(arrow::date32()));
    return Datum(out);
  }
  const std::string& op = call.name;
  if (call.type && call.type->id() == Type::DECIMAL128 && op.size() == 1) {
    if (auto fast = DecimalArithmetic(op[0], args[0], args[1], *call.type)) {
      return std::move(*fast);
    }
  }
  Result<Datum> r;
  if (op == "+") {
    r = Call("add_checked", args);
  } else if (op == "-") {
    r = Call("subtract_checked", args);
  } else if (op == "*") {
    r = Call("multiply_checked", args);
  } else if (op == "/") {
    ARROW_ASSIGN_OR_RAISE(auto divisor, ZeroToNull(args[1]));
    r = Call(IsFloating(*args[0].type()) ? "divide" : "divide_checked",
             {args[0], divisor});
  } else {
    return Modulo(args, ctx);
  }
  bool has_decimal = IsDecimal(*args[0].type()) || IsDecimal(*args[1].type());
  if (!r.ok() && has_decimal && op != "/" &&
      r.status().message().find("recision") != std::string::npos) {
    // Arrow's result precision would pass 38 digits: compute in 38 digits ourselves.
    return WideDecimalArithmetic(op, args, ctx);
  }
  if (!r.ok() && r.status().message().find("overflow") != std::string::npos) {
    return Status::Invalid(has_decimal ? "decimal" : "integer", " overflow in ", op);
  }
  return r;
}

// Rounding a decimal up may need one more digit (9.99 -> 10.0): give it room.
Result<Datum> WidenDecimal(const Datum& x) {
  if (x.type()->id() != Type::DECIMAL128) return x;
  const auto& t = static_cast<const arrow::DecimalType&>(*x.type());
  if (t.precision() >= 38) return x;
  return cp::Cast(x, arrow::decimal128(t.precision() + 1, t.scale()));
}

// A decimal rounded to `digits` places keeps only those (DuckDB: round(DECIMAL(12,2))
// is DECIMAL(12,0), so it prints as 10, not 10.00). The dropped digits are zero, so
// the cast is exact.
Result<Datum> DropDecimalScale(const Datum& x, int64_t digits) {
  if (x.type()->id() != Type::DECIMAL128) return x;
  const auto& t = static_cast<const arrow::DecimalType&>(*x.type());
  int32_t scale = static_cast<int32_t>(std::max<int64_t>(digits, 0));
  if (scale >= t.scale()) return x;
  int32_t precision = std::max(1, t.precision() - (t.scale() - scale));
  return cp::Cast(x, arrow::decimal128(precision, scale));
}

Result<Datum> EvalIn(const ExprNode& call, Args& args, const EvalContext& ctx) {
  bool all_const = true;
  for (size_t i = 1; i < args.size(); ++i) all_const = all_const && args[i].is_scalar();
  if (all_const) {
    std::vector<std::shared_ptr<arrow::Scalar>> items;
    for (size_t i = 1; i < args.size(); ++i) items.push_back(args[i].scalar());
    std::unique_ptr<arrow::ArrayBuilder> builder;
    ARROW_RETURN_NOT_OK(
        arrow::MakeBuilder(arrow::default_memory_pool(), args[0].type(), &builder));
    ARROW_RETURN_NOT_OK(builder->AppendScalars(items));
    ARROW_ASSIGN_OR_RAISE(auto set, builder->Finish());
    Datum value = args[0];
    if (IsFloating(*value.type())) {
      // Set lookup compares bits; adding +0.0 turns -0.0 into 0.0 on both sides.
      auto zero = Datum(arrow::MakeScalar(0.0)->CastTo(value.type()).ValueOrDie());
      ARROW_ASSIGN_OR_RAISE(value, Call("add", {value, zero}));
      ARROW_ASSIGN_OR_RAISE(auto normalized, Call("add", {Datum(set), zero}));
      set = normalized.make_array();
    }
    cp::SetLookupOptions opts(set, cp::SetLookupOptions::INCONCLUSIVE);
    return Call("is_in", {value}, &opts);
  }
  // Non-constant list: x = a OR x = b OR ...
  Datum acc;
  for (size_t i = 1; i < args.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", {args[0], args[i]}));
    if (i == 1) {
      acc = eq;
    } else {
      ARROW_ASSIGN_OR_RAISE(acc, Call("or_kleene", {acc, eq}));
    }
  }
  return acc;
}

Result<Datum> EvalCase(const ExprNode& call, Args& args, const EvalContext& ctx) {
  size_t n = args.size();
  bool has_else = n % 2 == 1;
  arrow::ArrayVector conds;
  std::vector<std::string> names;
  Args values;
  for (size_t i = 0; i + 1 < n || (!has_else && i < n); i += 2) {
    ARROW_ASSIGN_OR_RAISE(auto c, ToArray(args[i], ctx));
    conds.push_back(c);
    names.push_back(fmt::format("c{}", i / 2));
    values.push_back(args[i + 1]);
  }
  if (has_else) values.push_back(args[n - 1]);
  if (ctx.num_rows == 0 && conds.empty()) return Datum(arrow::MakeNullScalar(call.type));
  ARROW_ASSIGN_OR_RAISE(auto cond_struct, arrow::StructArray::Make(conds, names));
  Args call_args = {Datum(cond_struct)};
  for (auto& v : values) call_args.push_back(v);
  return Call("case_when", call_args);
}

// Text to boolean as PostgreSQL/DuckDB read it: true/t/yes/y/on/1 and
// false/f/no/n/off/0, any case, surrounding spaces ignored.
Result<Datum> StringToBool(const Datum& d) {
  auto parse = [](std::string_view v, bool* out) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    std::string l;
    for (char c : v)
      l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (l == "true" || l == "t" || l == "yes" || l == "y" || l == "on" || l == "1") {
      *out = true;
      return true;
    }
    if (l == "false" || l == "f" || l == "no" || l == "n" || l == "off" || l == "0") {
      *out = false;
      return true;
    }
    return false;
  };
  std::shared_ptr<arrow::Array> arr;
  if (d.is_scalar()) {
    ARROW_ASSIGN_OR_RAISE(arr, arrow::MakeArrayFromScalar(*d.scalar(), 1));
  } else {
    arr = d.make_array();
  }
  ARROW_ASSIGN_OR_RAISE(auto text, cp::Cast(arr, arrow::utf8()));
  auto text_array = text.make_array();  // keep it alive while `s` refers to it
  const auto& s = static_cast<const arrow::StringArray&>(*text_array);
  arrow::BooleanBuilder b;
  ARROW_RETURN_NOT_OK(b.Reserve(s.length()));
  for (int64_t i = 0; i < s.length(); ++i) {
    bool v;
    if (s.IsNull(i)) {
      b.UnsafeAppendNull();
    } else if (parse(s.GetView(i), &v)) {
      b.UnsafeAppend(v);
    } else {
      return Status::Invalid("cannot cast '", std::string(s.GetView(i)), "' to boolean");
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto out, b.Finish());
  if (d.is_scalar()) return out->GetScalar(0);
  return Datum(out);
}

// A cast with SQL's rules; errors carry Arrow's reason only (callers add context).
Result<Datum> CastDatumImpl(const Datum& d,
                            const std::shared_ptr<arrow::DataType>& type) {
  if (d.type()->Equals(*type)) return d;
  if (d.is_scalar() && !d.scalar()->is_valid) return Datum(arrow::MakeNullScalar(type));
  if (d.type()->id() == Type::DECIMAL128 && IsFloating(*type)) {
    // Correctly rounded (decimal_to_double.h), then narrowed if the target is FLOAT.
    std::shared_ptr<arrow::Array> in;
    if (d.is_scalar()) {
      ARROW_ASSIGN_OR_RAISE(in, arrow::MakeArrayFromScalar(*d.scalar(), 1));
    } else {
      in = d.make_array();
    }
    ARROW_ASSIGN_OR_RAISE(auto dbl, DecimalToDouble(*in, arrow::default_memory_pool()));
    Datum out = dbl;
    if (d.is_scalar()) {
      ARROW_ASSIGN_OR_RAISE(auto s, dbl->GetScalar(0));
      out = Datum(s);
    }
    return type->id() == Type::DOUBLE ? out : CastDatumImpl(out, type);
  }
  auto options = cp::CastOptions::Safe(type);
  // Numbers convert to floating point by rounding (SQL), not only when exact.
  if (IsFloating(*type)) options.allow_float_truncate = true;
  if (IsInteger(*d.type()) && type->id() == Type::DECIMAL128) {
    // Arrow wants room for every value of the integer type; SQL checks the values:
    // go through decimal(38, s), whose narrowing checks each value.
    int scale = static_cast<const arrow::DecimalType&>(*type).scale();
    auto wide = arrow::decimal128(38, scale);
    if (!wide->Equals(*type)) {
      auto w = cp::Cast(d, cp::CastOptions::Safe(wide));
      if (w.ok()) return CastDatumImpl(*w, type);
    }
  }
  if ((IsFloating(*d.type()) || IsDecimal(*d.type())) && IsInteger(*type)) {
    // SQL rounds to the nearest integer instead of refusing a fraction (as DuckDB:
    // doubles to even on a tie, decimals away from zero); out-of-range values are still
    // errors.
    cp::RoundOptions ro(0, IsFloating(*d.type()) ? cp::RoundMode::HALF_TO_EVEN
                                                 : cp::RoundMode::HALF_TOWARDS_INFINITY);
    Datum x = d;
    if (IsDecimal(*x.type())) {
      const auto& t = static_cast<const arrow::DecimalType&>(*x.type());
      if (t.precision() < 38) {
        ARROW_ASSIGN_OR_RAISE(
            x, cp::Cast(x, arrow::decimal128(t.precision() + 1, t.scale())));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto rounded, Call("round", {x}, &ro));
    return cp::Cast(rounded, cp::CastOptions::Safe(type));
  }
  if (IsStringLike(*d.type()) && type->id() == Type::BOOL) return StringToBool(d);
  auto r = cp::Cast(d, options);
  if (!r.ok() && IsStringLike(*d.type()) && type->id() == Type::TIMESTAMP &&
      !static_cast<const arrow::TimestampType&>(*type).timezone().empty()) {
    // A time without an offset, for a time zone aware type, is a UTC time (the
    // session time zone is UTC).
    auto naive = arrow::timestamp(static_cast<const arrow::TimestampType&>(*type).unit());
    auto n = cp::Cast(d, cp::CastOptions::Safe(naive));
    if (n.ok()) r = cp::Cast(*n, cp::CastOptions::Safe(type));
  }
  return r;
}

Result<Datum> CastDatum(const Datum& d, const std::shared_ptr<arrow::DataType>& type) {
  auto r = CastDatumImpl(d, type);
  if (!r.ok()) {
    return Status::Invalid("cannot cast ", TypeName(*d.type()), " to ", TypeName(*type),
                           ": ", r.status().message());
  }
  return r;
}

// TRY_CAST: like CAST, but values that do not convert become NULL.
Result<Datum> TryCast(const Datum& d, const std::shared_ptr<arrow::DataType>& type,
                      const EvalContext& ctx) {
  auto whole = cp::Cast(d, cp::CastOptions::Safe(type));
  if (whole.ok()) return whole;
  if (d.is_scalar()) return Datum(arrow::MakeNullScalar(type));
  auto arr = d.make_array();
  std::unique_ptr<arrow::ArrayBuilder> builder;
  ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), type, &builder));
  ARROW_RETURN_NOT_OK(builder->Reserve(arr->length()));
  for (int64_t i = 0; i < arr->length(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto s, arr->GetScalar(i));
    auto c = s->CastTo(type);
    if (c.ok() && s->is_valid) {
      ARROW_RETURN_NOT_OK(builder->AppendScalar(**c));
    } else {
      ARROW_RETURN_NOT_OK(builder->AppendNull());
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto out, builder->Finish());
  return Datum(out);
}

// Rewrites unnamed capture groups to named ones (g1, g2, ...) for extract_regex.
std::string NameGroups(const std::string& pattern, int* groups) {
  std::string out;
  bool in_class = false;
  *groups = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out += c;
      out += pattern[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      continue;
    }
    if (c == '(' && (i + 1 >= pattern.size() || pattern[i + 1] != '?')) {
      ++*groups;
      out += fmt::format("(?P<g{}>", *groups);
      continue;
    }
    out += c;
  }
  return out;
}

Result<Datum> RegexpExtract(const ExprNode& call, Args& args, const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto pattern, ConstString(call, args, 1, "the pattern"));
  int64_t group = 0;
  if (args.size() > 2) {
    ARROW_ASSIGN_OR_RAISE(group, ConstInt(call, args, 2, "the group"));
  }
  int groups = 0;
  std::string named = "(?P<g0>" + NameGroups(pattern, &groups) + ")";
  if (group < 0 || group > groups) {
    return Status::Invalid("regexp_extract(): group ", group, " does not exist in '",
                           pattern, "'");
  }
  cp::ExtractRegexOptions opts(named);
  ARROW_ASSIGN_OR_RAISE(auto s, Call("extract_regex", {args[0]}, &opts));
  Datum field;
  if (s.is_scalar()) {
    const auto& st = static_cast<const arrow::StructScalar&>(*s.scalar());
    if (!st.is_valid) {
      field = Datum(arrow::MakeNullScalar(args[0].type()));
    } else {
      field = Datum(st.value[group]);
    }
  } else {
    auto sa = std::static_pointer_cast<arrow::StructArray>(s.make_array());
    ARROW_ASSIGN_OR_RAISE(auto f, sa->GetFlattenedField(static_cast<int>(group)));
    field = Datum(f);
  }
  // No match gives '' (as DuckDB does) while a NULL input stays NULL.
  ARROW_ASSIGN_OR_RAISE(auto valid, Call("is_valid", {args[0]}));
  ARROW_ASSIGN_OR_RAISE(auto empty,
                        arrow::MakeScalar(std::string())->CastTo(args[0].type()));
  ARROW_ASSIGN_OR_RAISE(auto filled, Call("coalesce", {field, Datum(empty)}));
  return Call("if_else", {valid, filled, Datum(arrow::MakeNullScalar(args[0].type()))});
}

Result<Datum> SplitPart(const ExprNode& call, Args& args, const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto delim, ConstString(call, args, 1, "the delimiter"));
  ARROW_ASSIGN_OR_RAISE(auto index, ConstInt(call, args, 2, "the part number"));
  if (index == 0) return Status::Invalid("split_part(): part numbers start at 1");
  ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(args[0], ctx));
  ARROW_ASSIGN_OR_RAISE(auto str, cp::Cast(arr, arrow::utf8()));
  auto sarr = std::static_pointer_cast<arrow::StringArray>(str.make_array());
  arrow::StringBuilder builder;
  ARROW_RETURN_NOT_OK(builder.Reserve(sarr->length()));
  std::vector<std::string_view> parts;
  for (int64_t i = 0; i < sarr->length(); ++i) {
    if (sarr->IsNull(i)) {
      ARROW_RETURN_NOT_OK(builder.AppendNull());
      continue;
    }
    std::string_view s = sarr->GetView(i);
    parts.clear();
    if (delim.empty()) {
      parts.push_back(s);
    } else {
      size_t start = 0;
      while (true) {
        size_t pos = s.find(delim, start);
        if (pos == std::string_view::npos) {
          parts.push_back(s.substr(start));
          break;
        }
        parts.push_back(s.substr(start, pos - start));
        start = pos + delim.size();
      }
    }
    int64_t k = index > 0 ? index - 1 : static_cast<int64_t>(parts.size()) + index;
    if (k < 0 || k >= static_cast<int64_t>(parts.size())) {
      ARROW_RETURN_NOT_OK(builder.Append(""));
    } else {
      ARROW_RETURN_NOT_OK(builder.Append(parts[k]));
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto out, builder.Finish());
  return cp::Cast(out, args[0].type());
}

// cut(x, [edges], [labels]): the bucket (a, b] that x falls in, like pandas.cut with
// right=True. Labels default to "(a, b]". Values outside every bucket are NULL.
Result<Datum> Cut(const ExprNode& call, Args& args, const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto edges_s, ConstArg(call, args, 1, "the bin edges"));
  if (edges_s->type->id() != Type::LIST || !edges_s->is_valid) {
    return Status::TypeError("cut(): bin edges must be a list literal like [0, 10, 100]");
  }
  auto edge_values = static_cast<const arrow::ListScalar&>(*edges_s).value;
  ARROW_ASSIGN_OR_RAISE(auto edges_d, cp::Cast(edge_values, arrow::float64()));
  auto edges_arr = std::static_pointer_cast<arrow::DoubleArray>(edges_d.make_array());
  std::vector<double> edges;
  for (int64_t i = 0; i < edges_arr->length(); ++i) {
    if (edges_arr->IsNull(i)) return Status::Invalid("cut(): bin edges must not be NULL");
    edges.push_back(edges_arr->Value(i));
  }
  if (edges.size() < 2 || !std::is_sorted(edges.begin(), edges.end()) ||
      std::adjacent_find(edges.begin(), edges.end()) != edges.end()) {
    return Status::Invalid("cut(): need at least two strictly increasing bin edges");
  }
  std::vector<std::string> labels;
  if (args.size() > 2) {
    ARROW_ASSIGN_OR_RAISE(auto labels_s, ConstArg(call, args, 2, "the labels"));
    if (labels_s->type->id() != Type::LIST || !labels_s->is_valid) {
      return Status::TypeError(
          "cut(): labels must be a list literal like ['low', 'high']");
    }
    ARROW_ASSIGN_OR_RAISE(
        auto ld,
        cp::Cast(static_cast<const arrow::ListScalar&>(*labels_s).value, arrow::utf8()));
    auto la = std::static_pointer_cast<arrow::StringArray>(ld.make_array());
    for (int64_t i = 0; i < la->length(); ++i) labels.emplace_back(la->GetView(i));
    if (labels.size() != edges.size() - 1) {
      return Status::Invalid("cut(): ", edges.size() - 1, " bins need ", edges.size() - 1,
                             " labels, got ", labels.size());
    }
  } else {
    for (size_t i = 0; i + 1 < edges.size(); ++i) {
      labels.push_back(fmt::format("({}, {}]", edges[i], edges[i + 1]));
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto x, ToArray(args[0], ctx));
  ARROW_ASSIGN_OR_RAISE(auto xd, cp::Cast(x, arrow::float64()));
  auto xa = std::static_pointer_cast<arrow::DoubleArray>(xd.make_array());
  arrow::StringBuilder builder;
  ARROW_RETURN_NOT_OK(builder.Reserve(xa->length()));
  for (int64_t i = 0; i < xa->length(); ++i) {
    double v = xa->Value(i);
    if (xa->IsNull(i) || std::isnan(v) || v <= edges.front() || v > edges.back()) {
      ARROW_RETURN_NOT_OK(builder.AppendNull());
      continue;
    }
    size_t k = std::lower_bound(edges.begin(), edges.end(), v) -
               edges.begin();  // edges[k-1] < v <= edges[k]
    ARROW_RETURN_NOT_OK(builder.Append(labels[k - 1]));
  }
  ARROW_ASSIGN_OR_RAISE(auto out, builder.Finish());
  return Datum(out);
}

Result<cp::CalendarUnit> ParseUnit(const std::string& unit) {
  std::string u = unit;
  for (auto& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!u.empty() && u.back() == 's') u.pop_back();
  if (u == "microsecond") return cp::CalendarUnit::MICROSECOND;
  if (u == "millisecond") return cp::CalendarUnit::MILLISECOND;
  if (u == "second") return cp::CalendarUnit::SECOND;
  if (u == "minute") return cp::CalendarUnit::MINUTE;
  if (u == "hour") return cp::CalendarUnit::HOUR;
  if (u == "day") return cp::CalendarUnit::DAY;
  if (u == "week") return cp::CalendarUnit::WEEK;
  if (u == "month") return cp::CalendarUnit::MONTH;
  if (u == "quarter") return cp::CalendarUnit::QUARTER;
  if (u == "year") return cp::CalendarUnit::YEAR;
  return Status::Invalid("unknown date/time unit '", unit, "'");
}

Result<Datum> DatePart(const std::string& field_in, const Datum& x) {
  std::string f = field_in;
  for (auto& c : f) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (f == "year" || f == "years") return Call("year", {x});
  if (f == "month" || f == "months") return Call("month", {x});
  if (f == "day" || f == "days") return Call("day", {x});
  if (f == "hour" || f == "hours") return Call("hour", {x});
  if (f == "minute" || f == "minutes") return Call("minute", {x});
  if (f == "second" || f == "seconds") return Call("second", {x});
  if (f == "quarter") return Call("quarter", {x});
  if (f == "week") return Call("iso_week", {x});
  if (f == "doy") return Call("day_of_year", {x});
  if (f == "dow") {
    // PostgreSQL/DuckDB: Sunday = 0 .. Saturday = 6.
    cp::DayOfWeekOptions opts(/*count_from_zero=*/true, /*week_start=*/7);
    return Call("day_of_week", {x}, &opts);
  }
  if (f == "isodow") {
    cp::DayOfWeekOptions opts(/*count_from_zero=*/false, /*week_start=*/1);
    return Call("day_of_week", {x}, &opts);
  }
  if (f == "epoch") {
    ARROW_ASSIGN_OR_RAISE(auto ts, cp::Cast(x, arrow::timestamp(arrow::TimeUnit::MICRO)));
    ARROW_ASSIGN_OR_RAISE(auto us, cp::Cast(ts, arrow::int64()));
    ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(us, arrow::float64()));
    return Call("divide", {d, Datum(1e6)});
  }
  return Status::Invalid("unknown date part '", field_in, "'");
}

using EvalFn = std::function<Result<Datum>(const ExprNode&, Args&, const EvalContext&)>;
using BindFn = std::function<Result<Expr>(std::shared_ptr<ExprNode>)>;

// A comparison by Arrow's kernel name; decimals compare in native 128 bits.
Result<Datum> Compare(const std::string& kernel, const Datum& a, const Datum& b) {
  if (a.type()->id() == Type::DECIMAL128 && b.type()->id() == Type::DECIMAL128) {
    using CO = cp::CompareOperator;
    static const std::pair<const char*, CO> ops[] = {
        {"equal", CO::EQUAL},     {"not_equal", CO::NOT_EQUAL},
        {"less", CO::LESS},       {"less_equal", CO::LESS_EQUAL},
        {"greater", CO::GREATER}, {"greater_equal", CO::GREATER_EQUAL}};
    for (const auto& [name, op] : ops) {
      if (kernel != name) continue;
      if (auto fast = DecimalCompare(op, a, b)) return std::move(*fast);
    }
  }
  return Call(kernel, {a, b});
}

EvalFn Kernel(const std::string& kernel) {
  return [kernel](const ExprNode&, Args& args, const EvalContext&) {
    return Call(kernel, args);
  };
}

// greatest()/least(): Arrow has no element-wise min/max for booleans and zoned
// timestamps; compute those on their integer form and convert back.
EvalFn ElementWise(const std::string& kernel) {
  return [kernel](const ExprNode& call, Args& args,
                  const EvalContext& ctx) -> Result<Datum> {
    auto type = call.type;
    bool zoned = type->id() == Type::TIMESTAMP &&
                 !static_cast<const arrow::TimestampType&>(*type).timezone().empty();
    if (!zoned && type->id() != Type::BOOL) return Call(kernel, args);
    auto as = zoned ? arrow::int64() : arrow::int8();
    Args converted;
    for (const auto& a : args) {
      ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(a, ctx));
      if (zoned) {
        ARROW_ASSIGN_OR_RAISE(auto v, arr->View(as));
        converted.push_back(Datum(v));
      } else {
        ARROW_ASSIGN_OR_RAISE(auto v, cp::Cast(arr, as));
        converted.push_back(v);
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto r, Call(kernel, converted));
    auto arr = r.make_array();
    if (zoned) return Datum(*arr->View(type));
    return cp::Cast(arr, type);
  };
}

std::map<std::string, FunctionDef>& Registry() {
  static std::map<std::string, FunctionDef> registry;
  return registry;
}

void Add(const std::string& name, int min_args, int max_args, BindFn bind, EvalFn eval) {
  FunctionDef def;
  def.name = name;
  def.min_args = min_args;
  def.max_args = max_args;
  def.bind = std::move(bind);
  def.eval = std::move(eval);
  Registry()[name] = std::move(def);
}

void Alias(const std::string& alias, const std::string& name) {
  FunctionDef def = Registry().at(name);
  def.name = alias;
  Registry()[alias] = def;
}

void RegisterAll() {
  // Arithmetic.
  for (const char* op : {"+", "-", "*", "/", "%"})
    Add(op, 2, 2, BindArithmetic, EvalArithmetic);
  Add("negate", 1, 1, BindNumeric, [](const ExprNode&, Args& a, const EvalContext&) {
    return Call("negate_checked", {a[0]});
  });
  // Comparison.
  const std::pair<const char*, const char*> cmps[] = {
      {"=", "equal"},       {"<>", "not_equal"}, {"<", "less"},
      {"<=", "less_equal"}, {">", "greater"},    {">=", "greater_equal"}};
  for (const auto& [op, kernel] : cmps) {
    std::string name = kernel;
    Add(op, 2, 2, BindComparison, [name](const ExprNode&, Args& a, const EvalContext&) {
      return Compare(name, a[0], a[1]);
    });
  }
  Alias("!=", "<>");
  Add("is_distinct_from", 2, 2, BindComparison,
      [](const ExprNode&, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto ne, Call("not_equal", a));
        ARROW_ASSIGN_OR_RAISE(auto na, Call("is_null", {a[0]}));
        ARROW_ASSIGN_OR_RAISE(auto nb, Call("is_null", {a[1]}));
        ARROW_ASSIGN_OR_RAISE(auto one_null, Call("xor", {na, nb}));
        ARROW_ASSIGN_OR_RAISE(auto ne_filled, Call("coalesce", {ne, Datum(false)}));
        return Call("or", {ne_filled, one_null});
      });
  Add(
      "between", 3, 3,
      [](std::shared_ptr<ExprNode> c) -> Result<Expr> {
        ARROW_RETURN_NOT_OK(UnifyArgs(c.get(), 0, 1, true));
        c->type = arrow::boolean();
        return Expr(c);
      },
      [](const ExprNode&, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto ge, Compare("greater_equal", a[0], a[1]));
        ARROW_ASSIGN_OR_RAISE(auto le, Compare("less_equal", a[0], a[2]));
        return Call("and_kleene", {ge, le});
      });
  // Logic.
  Add("and", 2, 2, BindLogical, Kernel("and_kleene"));
  Add("or", 2, 2, BindLogical, Kernel("or_kleene"));
  Add("not", 1, 1, BindLogical, Kernel("invert"));
  Add("is_null", 1, 1, nullptr, Kernel("is_null"));
  Add("is_not_null", 1, 1, nullptr, Kernel("is_valid"));
  Add("is_true", 1, 1, BindLogical, [](const ExprNode&, Args& a, const EvalContext&) {
    return Call("coalesce", {a[0], Datum(false)});
  });
  Add("in", 2, -1, BindIn, EvalIn);
  Add("like", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto p, ConstString(c, a, 1, "the LIKE pattern"));
        if (a[0].is_array()) {
          if (auto percent = ParsePercentPattern(p)) {
            ARROW_ASSIGN_OR_RAISE(auto out, LikePercent(*percent, *a[0].make_array()));
            return Datum(out);
          }
        }
        cp::MatchSubstringOptions o(p, false);
        return Call("match_like", {a[0]}, &o);
      });
  Add("ilike", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto p, ConstString(c, a, 1, "the ILIKE pattern"));
        cp::MatchSubstringOptions o(p, true);
        return Call("match_like", {a[0]}, &o);
      });
  // Conditionals.
  Add("case", 2, -1, BindCase, EvalCase);
  Add("coalesce", 1, -1, BindUnifyAll, Kernel("coalesce"));
  // __single_value(n, v): v, or an error where the row count n of a scalar
  // subquery's group is above one (planted by the SQL binder, not for users).
  Add(
      "__single_value", 2, 2,
      [](std::shared_ptr<ExprNode> call) -> Result<Expr> {
        call->type = call->args[1]->type;
        return Expr(call);
      },
      [](const ExprNode&, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto over, Call("greater", {a[0], Datum(int64_t{1})}));
        ARROW_ASSIGN_OR_RAISE(auto any, Call("any", {over}));
        const auto& flag = any.scalar_as<arrow::BooleanScalar>();
        if (flag.is_valid && flag.value) {
          return Status::Invalid(
              "more than one row returned by a subquery used as an expression");
        }
        return a[1];
      });
  Add("greatest", 1, -1, BindUnifyAll, ElementWise("max_element_wise"));
  Add("least", 1, -1, BindUnifyAll, ElementWise("min_element_wise"));
  Add("nullif", 2, 2, BindUnifyAll,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", a));
        ARROW_ASSIGN_OR_RAISE(auto eqf, Call("coalesce", {eq, Datum(false)}));
        return Call("if_else", {eqf, Datum(arrow::MakeNullScalar(a[0].type())), a[0]});
      });
  Add(
      "if", 3, 3,
      [](std::shared_ptr<ExprNode> c) -> Result<Expr> {
        ARROW_RETURN_NOT_OK(UnifyArgs(c.get(), 1, 1, true));
        return Expr(c);
      },
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto cond, Call("coalesce", {a[0], Datum(false)}));
        return Call("if_else", {cond, a[1], a[2]});
      });
  // Casts.
  Add("cast", 1, 1, BindCast, [](const ExprNode& c, Args& a, const EvalContext&) {
    return CastDatum(a[0], c.target_type);
  });
  Add("try_cast", 1, 1, BindCast, [](const ExprNode& c, Args& a, const EvalContext& ctx) {
    return TryCast(a[0], c.target_type, ctx);
  });
  // Strings.
  Add("lower", 1, 1, BindString, Kernel("utf8_lower"));
  Add("upper", 1, 1, BindString, Kernel("utf8_upper"));
  Add("length", 1, 1, BindString, Kernel("utf8_length"));
  Alias("char_length", "length");
  Add("trim", 1, 1, BindString, Kernel("utf8_trim_whitespace"));
  Add("ltrim", 1, 1, BindString, Kernel("utf8_ltrim_whitespace"));
  Add("rtrim", 1, 1, BindString, Kernel("utf8_rtrim_whitespace"));
  Add("reverse", 1, 1, BindString, Kernel("utf8_reverse"));
  Add("substr", 2, 3, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto start, ConstInt(c, a, 1, "the start"));
        int64_t stop = std::numeric_limits<int64_t>::max();
        // SQL positions are 1-based; start <= 0 counts characters before the string.
        int64_t begin = start - 1;
        if (a.size() > 2) {
          ARROW_ASSIGN_OR_RAISE(auto len, ConstInt(c, a, 2, "the length"));
          if (len < 0) return Status::Invalid("substr(): negative length");
          stop = begin + len;
        }
        if (begin < 0) begin = 0;
        if (stop < 0) stop = 0;
        cp::SliceOptions o(begin, stop);
        return Call("utf8_slice_codeunits", {a[0]}, &o);
      });
  Alias("substring", "substr");
  Add("replace", 3, 3, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto from, ConstString(c, a, 1, "the search string"));
        ARROW_ASSIGN_OR_RAISE(auto to, ConstString(c, a, 2, "the replacement"));
        cp::ReplaceSubstringOptions o(from, to);
        return Call("replace_substring", {a[0]}, &o);
      });
  Add("regexp_replace", 3, 3, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto from, ConstString(c, a, 1, "the pattern"));
        ARROW_ASSIGN_OR_RAISE(auto to, ConstString(c, a, 2, "the replacement"));
        cp::ReplaceSubstringOptions o(from, to, 1);
        return Call("replace_substring_regex", {a[0]}, &o);
      });
  Add("concat", 1, -1, BindConcat, [](const ExprNode& c, Args& a, const EvalContext&) {
    cp::JoinOptions o(cp::JoinOptions::REPLACE, "");
    Args args = a;
    args.push_back(
        Datum(arrow::MakeScalar(std::string())->CastTo(a[0].type()).ValueOrDie()));
    return Call("binary_join_element_wise", args, &o);
  });
  Add("||", 2, 2, BindConcat, [](const ExprNode& c, Args& a, const EvalContext&) {
    cp::JoinOptions o(cp::JoinOptions::EMIT_NULL);
    Args args = a;
    args.push_back(
        Datum(arrow::MakeScalar(std::string())->CastTo(a[0].type()).ValueOrDie()));
    return Call("binary_join_element_wise", args, &o);
  });
  Add("starts_with", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto p, ConstString(c, a, 1, "the prefix"));
        cp::MatchSubstringOptions o(p);
        return Call("starts_with", {a[0]}, &o);
      });
  Add("ends_with", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto p, ConstString(c, a, 1, "the suffix"));
        cp::MatchSubstringOptions o(p);
        return Call("ends_with", {a[0]}, &o);
      });
  Add("contains", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto p, ConstString(c, a, 1, "the substring"));
        cp::MatchSubstringOptions o(p);
        return Call("match_substring", {a[0]}, &o);
      });
  Add("regexp_matches", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto p, ConstString(c, a, 1, "the pattern"));
        cp::MatchSubstringOptions o(p);
        return Call("match_substring_regex", {a[0]}, &o);
      });
  Add("regexp_extract", 2, 3, BindString, RegexpExtract);
  Add("split_part", 3, 3, BindString, SplitPart);
  // Math.
  Add("abs", 1, 1, BindNumeric, Kernel("abs_checked"));
  Add("sign", 1, 1, BindNumeric, Kernel("sign"));
  Add("round", 1, 2, BindNumeric,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        int64_t digits = 0;
        if (a.size() > 1) {
          ARROW_ASSIGN_OR_RAISE(digits, ConstInt(c, a, 1, "the number of digits"));
        }
        if (IsInteger(*a[0].type()) && digits >= 0) return a[0];
        // SQL rounds halves away from zero.
        cp::RoundOptions o(digits, cp::RoundMode::HALF_TOWARDS_INFINITY);
        ARROW_ASSIGN_OR_RAISE(auto x, WidenDecimal(a[0]));
        ARROW_ASSIGN_OR_RAISE(auto r, Call("round", {x}, &o));
        return DropDecimalScale(r, digits);
      });
  Add("floor", 1, 1, BindNumeric,
      [](const ExprNode&, Args& a, const EvalContext&) -> Result<Datum> {
        if (IsInteger(*a[0].type())) return a[0];
        ARROW_ASSIGN_OR_RAISE(auto x, WidenDecimal(a[0]));
        ARROW_ASSIGN_OR_RAISE(auto r, Call("floor", {x}));
        return DropDecimalScale(r, 0);
      });
  Add("ceil", 1, 1, BindNumeric,
      [](const ExprNode&, Args& a, const EvalContext&) -> Result<Datum> {
        if (IsInteger(*a[0].type())) return a[0];
        ARROW_ASSIGN_OR_RAISE(auto x, WidenDecimal(a[0]));
        ARROW_ASSIGN_OR_RAISE(auto r, Call("ceil", {x}));
        return DropDecimalScale(r, 0);
      });
  Alias("ceiling", "ceil");
  // isnan/isinf/isfinite (DuckDB's names): of a number as a double; NULL stays NULL.
  for (auto [name, kernel] : {std::pair{"isnan", "is_nan"}, std::pair{"isinf", "is_inf"},
                              std::pair{"isfinite", "is_finite"}}) {
    Add(
        name, 1, 1,
        [](std::shared_ptr<ExprNode> c) -> Result<Expr> {
          ARROW_ASSIGN_OR_RAISE(auto e, BindFloat(c));
          auto n = Copy(e);
          n->type = arrow::boolean();
          return Expr(n);
        },
        Kernel(kernel));
  }
  Add("sqrt", 1, 1, BindFloat, Kernel("sqrt"));
  Add("ln", 1, 1, BindFloat, Kernel("ln"));
  Add("log10", 1, 1, BindFloat, Kernel("log10"));
  Add("log2", 1, 1, BindFloat, Kernel("log2"));
  Add("exp", 1, 1, BindFloat, Kernel("exp"));
  Add("pow", 2, 2, BindFloat, Kernel("power"));
  Alias("power", "pow");
  // Dates and times.
  for (const char* f : {"year", "month", "day", "hour", "minute", "second", "quarter",
                        "dow", "doy", "week", "epoch", "isodow"}) {
    std::string field = f;
    Add(field, 1, 1, BindTemporal, [field](const ExprNode&, Args& a, const EvalContext&) {
      return DatePart(field, a[0]);
    });
  }
  Add("date_part", 2, 2, BindTemporal,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto f, ConstString(c, a, 0, "the field"));
        return DatePart(f, a[1]);
      });
  Alias("extract", "date_part");
  Add("date_trunc", 2, 2, BindTemporal,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto u, ConstString(c, a, 0, "the unit"));
        ARROW_ASSIGN_OR_RAISE(auto unit, ParseUnit(u));
        cp::RoundTemporalOptions o(1, unit, /*week_starts_monday=*/true);
        return Call("floor_temporal", {a[1]}, &o);
      });
  Add("to_timestamp", 1, 1, BindNumeric,
      [](const ExprNode&, Args& a, const EvalContext&) -> Result<Datum> {
        // Unix seconds (possibly fractional) -> timestamp(us, UTC).
        ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(a[0], arrow::float64()));
        ARROW_ASSIGN_OR_RAISE(auto us, Call("multiply", {d, Datum(1e6)}));
        cp::RoundOptions ro(0, cp::RoundMode::HALF_TOWARDS_INFINITY);
        ARROW_ASSIGN_OR_RAISE(auto r, Call("round", {us}, &ro));
        ARROW_ASSIGN_OR_RAISE(auto i, cp::Cast(r, arrow::int64()));
        return cp::Cast(i, arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"));
      });
  Add("strftime", 2, 2, BindTemporal, nullptr);
  Registry()["strftime"].bind = [](std::shared_ptr<ExprNode> c) -> Result<Expr> {
    if (!IsTemporal(*c->args[0]->type)) {
      return Status::TypeError("strftime() needs a date or timestamp first");
    }
    return Expr(c);
  };
  Registry()["strftime"].eval = [](const ExprNode& c, Args& a,
                                   const EvalContext&) -> Result<Datum> {
    ARROW_ASSIGN_OR_RAISE(auto f, ConstString(c, a, 1, "the format"));
    cp::StrftimeOptions o(f, "C");
    Datum x = a[0];
    if (x.type()->id() == Type::TIMESTAMP) {
      // %S prints whole seconds (as C, Python, PostgreSQL and DuckDB do); Arrow would
      // add the fraction of the timestamp's unit.
      // Floor (not truncate) to whole seconds, so that times before 1970 stay right.
      const auto& t = static_cast<const arrow::TimestampType&>(*x.type());
      cp::RoundTemporalOptions to_second(1, cp::CalendarUnit::SECOND);
      ARROW_ASSIGN_OR_RAISE(x, Call("floor_temporal", {x}, &to_second));
      ARROW_ASSIGN_OR_RAISE(x, cp::Cast(x, cp::CastOptions::Safe(arrow::timestamp(
                                               arrow::TimeUnit::SECOND, t.timezone()))));
    }
    if (x.type()->id() == Type::DATE32 || x.type()->id() == Type::DATE64) {
      ARROW_ASSIGN_OR_RAISE(x, cp::Cast(x, arrow::timestamp(arrow::TimeUnit::SECOND)));
    }
    return Call("strftime", {x}, &o);
  };
  Add("strptime", 2, 2, BindString,
      [](const ExprNode& c, Args& a, const EvalContext&) -> Result<Datum> {
        ARROW_ASSIGN_OR_RAISE(auto f, ConstString(c, a, 1, "the format"));
        cp::StrptimeOptions o(f, arrow::TimeUnit::MICRO, /*error_is_null=*/false);
        return Call("strptime", {a[0]}, &o);
      });
  Add("cut", 2, 3, BindNumeric, Cut);
  Registry()["cut"].bind = [](std::shared_ptr<ExprNode> c) -> Result<Expr> {
    if (!IsNumeric(*c->args[0]->type)) return Status::TypeError("cut() needs a number");
    c->type = arrow::utf8();
    return Expr(c);
  };
}

}  // namespace

namespace {

struct UserFunctions {
  // Set once a user function is registered: planning asks IsUserFunction of every
  // call, and a process without UDFs takes no lock for it.
  std::atomic<bool> any{false};
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const FunctionDef>> by_name;
  std::vector<std::shared_ptr<const FunctionDef>> replaced;  // see FindFunction
};

UserFunctions& Users() {
  static auto* users = new UserFunctions;  // never destroyed: outlives every query
  return *users;
}

void InitRegistry() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Arrow >= 21 registers its compute kernels on demand.
    (void)cp::Initialize();
    RegisterAll();
  });
}

}  // namespace

const FunctionDef* FindFunction(const std::string& name) {
  InitRegistry();
  auto it = Registry().find(name);
  if (it != Registry().end()) return &it->second;
  UserFunctions& users = Users();
  if (!users.any.load()) return nullptr;
  std::lock_guard<std::mutex> lock(users.mu);
  auto u = users.by_name.find(name);
  return u == users.by_name.end() ? nullptr : u->second.get();
}

Status RegisterUserFunction(FunctionDef def) {
  InitRegistry();
  if (def.name.empty() || def.name != AsciiLower(def.name)) {
    return Status::Invalid("a function name must be lower case and not empty: '",
                           def.name, "'");
  }
  if (Registry().count(def.name) > 0 || IsAggregateFunction(def.name)) {
    return Status::Invalid("'", def.name, "' is a built-in function: pick another name");
  }
  if (!def.eval) return Status::Invalid("function '", def.name, "' has no evaluation");
  UserFunctions& users = Users();
  std::lock_guard<std::mutex> lock(users.mu);
  auto& slot = users.by_name[def.name];
  if (slot) users.replaced.push_back(std::move(slot));
  slot = std::make_shared<const FunctionDef>(std::move(def));
  users.any.store(true);
  return Status::OK();
}

bool IsUserFunction(const std::string& name) {
  UserFunctions& users = Users();
  if (!users.any.load()) return false;
  std::lock_guard<std::mutex> lock(users.mu);
  return users.by_name.count(name) > 0;
}

void ClearUserFunctions() {
  UserFunctions& users = Users();
  std::lock_guard<std::mutex> lock(users.mu);
  users.by_name.clear();
  users.replaced.clear();
}

std::vector<std::string> FunctionNames() {
  FindFunction("+");
  std::vector<std::string> names;
  for (const auto& [name, def] : Registry()) names.push_back(name);
  return names;
}

bool IsAggregateFunction(const std::string& name) {
  static const std::set<std::string> names = {"count",
                                              "count_star",
                                              "sum",
                                              "avg",
                                              "mean",
                                              "min",
                                              "max",
                                              "stddev",
                                              "stddev_samp",
                                              "stddev_pop",
                                              "variance",
                                              "var_samp",
                                              "var_pop",
                                              "median",
                                              "quantile",
                                              "quantile_cont",
                                              "percentile_cont",
                                              "first",
                                              "last",
                                              "bool_and",
                                              "bool_or",
                                              "string_agg",
                                              "any_value",
                                              "arbitrary",
                                              "corr",
                                              "covar_samp",
                                              "covar_pop"};
  return names.count(name) > 0;
}

Result<Expr> CastTo(const Expr& e, const std::shared_ptr<arrow::DataType>& type) {
  if (e->type && e->type->Equals(*type)) return e;
  if (e->kind == ExprKind::kLiteral) {
    std::shared_ptr<arrow::Scalar> v;
    if (!e->value || !e->value->is_valid) {
      v = arrow::MakeNullScalar(type);
    } else {
      FindFunction("cast");  // make sure compute is initialised
      auto r = CastDatumImpl(Datum(e->value), type);
      if (!r.ok()) {
        return Status::Invalid("cannot convert ", ToString(e), " to ", TypeName(*type),
                               ": ", r.status().message());
      }
      v = r->scalar();
    }
    auto n = std::make_shared<ExprNode>(*e);
    n->value = v;
    n->type = type;
    return Expr(n);
  }
  auto c = std::make_shared<ExprNode>(*Cast(e, type));
  c->type = type;
  c->position = e->position;
  return Expr(c);
}

}  // namespace sluice::expr
