#pragma once

// Decimal arithmetic and comparison in native 128-bit integers.
//
// Arrow's decimal kernels go through out-of-line BasicDecimal128 calls for every value
// (and rescale through a cast); these loops read the two's-complement words directly.
// They are the fast path of the + - * and comparison functions; the function registry
// falls back to Arrow's kernels (and to WideDecimalArithmetic) outside their contract.

#include <arrow/compute/api_scalar.h>
#include <arrow/datum.h>

#include <optional>

#include "sluice/base/status.h"

namespace sluice::expr {

/// a `op` b for op in '+', '-', '*', exact. Operands are decimal128 or signed integer
/// arrays or scalars (integers count as decimal(digits of the type, 0)); `out` is the
/// bound result type, a decimal128 whose scale is the larger operand scale for + and -
/// and the sum of the scales for *. Operands are rescaled to `out`'s scale; a result
/// with more digits than `out`'s precision is the error "decimal overflow in <op>".
/// Where the operand precisions prove that no result can overflow, the loop does no
/// checks. Two scalars give a scalar, otherwise an array of the array operand's length.
/// Returns nullopt when the operands or `out` fall outside this contract.
std::optional<Result<arrow::Datum>> DecimalArithmetic(char op, const arrow::Datum& a,
                                                      const arrow::Datum& b,
                                                      const arrow::DataType& out);

/// a `op` b for two decimal128 operands (arrays or scalars) of the same scale: a
/// boolean array (or scalar), null where either side is null. nullopt otherwise.
std::optional<Result<arrow::Datum>> DecimalCompare(arrow::compute::CompareOperator op,
                                                   const arrow::Datum& a,
                                                   const arrow::Datum& b);

}  // namespace sluice::expr
