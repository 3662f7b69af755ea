#pragma once
// SQL constants and type names: how literal text becomes a typed Arrow scalar, and how
// PostgreSQL's type names map to ours. Decisions (follow DuckDB where engines differ):
//   - integer literals: int32 when they fit, else int64, else decimal128(p, 0) up to 38
//     digits, else float64;
//   - literals with a decimal point: decimal128(p, s) with their own precision and
//     scale (1.50 -> decimal(3,2)); more than 38 digits or an exponent -> float64;
//   - FLOAT without a precision is a 4-byte float (DuckDB), DOUBLE/FLOAT8 8 bytes;
//   - INT8 is bigint, INT4 integer, INT2 smallint, INT1 tinyint (PostgreSQL and DuckDB).
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::sql::internal {

/// `value` converted to `type` with the engine's cast rules (expr::CastTo).
Result<std::shared_ptr<arrow::Scalar>> CastScalar(
    const std::shared_ptr<arrow::Scalar>& value,
    const std::shared_ptr<arrow::DataType>& type);

/// A numeric literal as written (libpg_query's "fval" text, possibly with a sign).
Result<std::shared_ptr<arrow::Scalar>> NumericLiteral(std::string_view text);

/// The Arrow type for a PostgreSQL TypeName: `names` as in the parse tree (possibly
/// starting with "pg_catalog"), `typmods` its integer modifiers (numeric(10,2) ->
/// {10, 2}). `bare_float` is true when the text said FLOAT without a precision (the
/// parser turns that into float8). INTERVAL gives month_day_nano_interval.
Result<std::shared_ptr<arrow::DataType>> TypeFromPgName(
    const std::vector<std::string>& names, const std::vector<int64_t>& typmods,
    bool bare_float);

/// An interval literal: '1 day', '2 hours 30 minutes', '1 year 2 months', '-3 days',
/// '1 day ago', '01:30:00', '1.5 hours'. `field_mask` is PostgreSQL's interval typmod
/// (INTERVAL '3' MONTH -> the MONTH bit) or -1; it gives the unit of a bare number.
Result<std::shared_ptr<arrow::Scalar>> IntervalLiteral(std::string_view text,
                                                       int64_t field_mask);

}  // namespace sluice::sql::internal
