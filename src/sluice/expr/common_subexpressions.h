#pragma once
// Common subexpression elimination across a list of bound expressions evaluated over
// the same batch (an aggregate's arguments: TPC-H Q1 computes l_extendedprice *
// (1 - l_discount) for two sums).
#include <vector>

#include "sluice/expr/expr.h"

namespace sluice::expr {

/// Finds the calls (not literals or columns) that occur more than once in `exprs`
/// (structurally equal, see Equals), largest first, and returns them in evaluation
/// order; in `exprs` and in later shared expressions each occurrence becomes a column
/// reference to width + i for the i-th returned expression. Evaluating the returned
/// expressions in order, each appended to the batch as a column, then `exprs` over the
/// widened batch gives the same values as before. All functions are deterministic.
std::vector<Expr> ExtractCommonSubexpressions(std::vector<Expr>* exprs, int width);

}  // namespace sluice::expr
