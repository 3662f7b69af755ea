#pragma once
// Vectorized evaluation of bound expressions over a batch.
#include <arrow/datum.h>
#include <arrow/record_batch.h>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice::expr {

/// Evaluates a bound expression. The result is an array of batch.num_rows() values or
/// a scalar (when the expression does not depend on any column). Thread-safe: an Expr
/// may be evaluated concurrently on different batches.
Result<arrow::Datum> Evaluate(const Expr& e, const arrow::RecordBatch& batch);

/// Like Evaluate, but always returns an array of batch.num_rows() values.
Result<std::shared_ptr<arrow::Array>> EvaluateToArray(const Expr& e,
                                                      const arrow::RecordBatch& batch);

/// Evaluates a constant expression (no columns) to a scalar.
Result<std::shared_ptr<arrow::Scalar>> EvaluateConstant(const Expr& e);

}  // namespace sluice::expr
