#pragma once
// DECIMAL128 values as DOUBLE, each the nearest double (correctly rounded), as SQL
// engines convert them. Arrow's cast scales in floating point and can be a unit in
// the last place off (DECIMAL(13,2) -474233084.03 became -474233084.03000003), which
// a stddev of values close together turns into a visible error (found by fuzz-sql).
#include <arrow/array.h>

#include <memory>

#include "sluice/base/status.h"

namespace sluice::expr {

/// REQUIRES: `decimals` is a DECIMAL128 array. Nulls stay null.
Result<std::shared_ptr<arrow::Array>> DecimalToDouble(const arrow::Array& decimals,
                                                      arrow::MemoryPool* pool);

}  // namespace sluice::expr
