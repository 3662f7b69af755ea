#pragma once
// Result types of aggregate functions (the exec layer implements them).
//
//   count(x), count(*), count(DISTINCT x)  -> int64
//   sum(int*)      -> int64 (overflow is an error)      sum(decimal(p,s)) ->
//   decimal(38,s) sum(float*)    -> float64 avg(x)         -> float64 (decimal input:
//   float64) min/max/first/last/any_value(x) -> type of x stddev[_samp|_pop], variance,
//   var_samp, var_pop -> float64 median(x), quantile(x, q) (continuous, interpolated) ->
//   float64 bool_and/bool_or(bool) -> bool string_agg(x, sep) -> utf8
#include <arrow/type.h>

#include <memory>
#include <string>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice::expr {

/// Canonical name of an aggregate (mean -> avg, stddev -> stddev_samp, ...).
std::string CanonicalAggregate(const std::string& name);

/// Checks arguments and returns the result type of a bound Aggregate node.
Result<std::shared_ptr<arrow::DataType>> AggregateResultType(const ExprNode& agg);

}  // namespace sluice::expr
