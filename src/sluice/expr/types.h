#pragma once
// Type rules shared by the binder, SQL and job specs.
#include <arrow/type.h>

#include <memory>
#include <string>

#include "sluice/base/status.h"

namespace sluice::expr {

bool IsInteger(const arrow::DataType& t);
bool IsFloating(const arrow::DataType& t);
bool IsDecimal(const arrow::DataType& t);
bool IsNumeric(const arrow::DataType& t);     // integer, floating or decimal
bool IsStringLike(const arrow::DataType& t);  // utf8, large_utf8, utf8_view
bool IsTemporal(const arrow::DataType& t);    // date32/64, timestamp

/// The type two values are converted to when combined (CASE branches, COALESCE,
/// UNION, IN lists, comparisons): null unifies with anything; integers widen (signed
/// wins, int64 at most); integer+decimal -> decimal wide enough; anything numeric with
/// floating -> float64; string kinds -> utf8 (large_utf8 if either is large); date +
/// timestamp -> timestamp. Error when there is none.
Result<std::shared_ptr<arrow::DataType>> CommonType(
    const std::shared_ptr<arrow::DataType>& a, const std::shared_ptr<arrow::DataType>& b);

/// Parses a type name as written in SQL casts and job schemas: int/integer/int32,
/// bigint/int64, smallint/int16, tinyint/int8, uint8..uint64, float/real/float32,
/// double/float64, decimal(p,s)/numeric(p,s), varchar/text/string/utf8, bool/boolean,
/// date, timestamp, timestamp(ms|us|ns|s), timestamptz / timestamp with time zone.
Result<std::shared_ptr<arrow::DataType>> ParseTypeName(const std::string& text);

/// A short SQL-ish name for a type (inverse of ParseTypeName where possible).
std::string TypeName(const arrow::DataType& t);

}  // namespace sluice::expr
