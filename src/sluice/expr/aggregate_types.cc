#include "sluice/expr/aggregate_types.h"

#include "sluice/expr/types.h"

namespace sluice::expr {

std::string CanonicalAggregate(const std::string& name) {
  if (name == "mean") return "avg";
  if (name == "stddev") return "stddev_samp";
  if (name == "variance") return "var_samp";
  if (name == "arbitrary") return "any_value";
  if (name == "quantile_cont" || name == "percentile_cont") return "quantile";
  return name;
}

Result<std::shared_ptr<arrow::DataType>> AggregateResultType(const ExprNode& agg) {
  std::string name = CanonicalAggregate(agg.name);
  auto arg_type = [&](size_t i) -> std::shared_ptr<arrow::DataType> {
    return i < agg.args.size() ? agg.args[i]->type : nullptr;
  };
  auto need_args = [&](size_t n) -> Status {
    if (agg.args.size() != n) {
      return Status::Invalid(agg.name, "() takes ", n, " argument", n == 1 ? "" : "s",
                             ", got ", agg.args.size());
    }
    return Status::OK();
  };
  if (name == "count_star") return arrow::int64();
  if (name == "count") {
    if (agg.args.empty()) return arrow::int64();
    ARROW_RETURN_NOT_OK(need_args(1));
    return arrow::int64();
  }
  if (name == "string_agg") {
    if (agg.args.size() != 1 && agg.args.size() != 2) {
      return Status::Invalid("string_agg() takes 1 or 2 arguments");
    }
    return arrow::utf8();
  }
  if (name == "corr" || name == "covar_samp" || name == "covar_pop") {
    ARROW_RETURN_NOT_OK(need_args(2));
    for (size_t i = 0; i < 2; ++i) {
      auto t = arg_type(i);
      if (!IsNumeric(*t) && t->id() != arrow::Type::NA) {
        return Status::TypeError(agg.name, "() needs numeric arguments, got ",
                                 TypeName(*t));
      }
    }
    if (agg.distinct) return Status::Invalid(agg.name, "(DISTINCT ...) is not supported");
    return arrow::float64();
  }
  if (name == "quantile") {
    ARROW_RETURN_NOT_OK(need_args(1));
    if (agg.options.size() != 1) return Status::Invalid("quantile() needs a fraction");
  } else {
    ARROW_RETURN_NOT_OK(need_args(1));
  }
  auto t = arg_type(0);
  if (name == "min" || name == "max" || name == "first" || name == "last" ||
      name == "any_value") {
    return t->id() == arrow::Type::NA ? arrow::int32() : t;
  }
  if (name == "bool_and" || name == "bool_or") {
    if (t->id() != arrow::Type::BOOL && t->id() != arrow::Type::NA) {
      return Status::TypeError(agg.name, "() needs a boolean argument");
    }
    return arrow::boolean();
  }
  bool numeric = IsNumeric(*t) || t->id() == arrow::Type::NA;
  if (!numeric) {
    return Status::TypeError(agg.name, "() needs a numeric argument, got ", TypeName(*t));
  }
  if (name == "sum") {
    if (IsInteger(*t) || t->id() == arrow::Type::NA) return arrow::int64();
    if (IsDecimal(*t)) {
      return arrow::decimal128(38, static_cast<const arrow::DecimalType&>(*t).scale());
    }
    return arrow::float64();
  }
  if (name == "avg" || name == "stddev_samp" || name == "stddev_pop" ||
      name == "var_samp" || name == "var_pop" || name == "median" || name == "quantile") {
    return arrow::float64();
  }
  return Status::Invalid("unknown aggregate function '", agg.name, "'");
}

}  // namespace sluice::expr
