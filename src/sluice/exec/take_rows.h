#pragma once
// Gathering rows by index: the filter's selection and the join's index pairs.
//
// Indices are trusted (callers produce them, in range by construction), so the common
// column types are gathered in plain loops without Arrow's per-index bounds checks:
// fixed-width values and decimals, booleans, strings and binaries, and dictionary
// arrays (their indices; the dictionary is shared). Other types go through Arrow's
// Take.
#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/base/status.h"

namespace arrow {
class Array;
class MemoryPool;
class RecordBatch;
}  // namespace arrow

namespace sluice::exec {

/// values[indices[i]] for i in [0, n).
/// REQUIRES: 0 <= indices[i] < values->length().
Result<std::shared_ptr<arrow::Array>> TakeRows(
    const std::shared_ptr<arrow::Array>& values, const int32_t* indices, int64_t n,
    arrow::MemoryPool* pool);
Result<std::shared_ptr<arrow::Array>> TakeRows(
    const std::shared_ptr<arrow::Array>& values, const int64_t* indices, int64_t n,
    arrow::MemoryPool* pool);

/// Every column of `batch` taken by `indices` (same contract).
Result<std::shared_ptr<arrow::RecordBatch>> TakeBatchRows(
    const std::shared_ptr<arrow::RecordBatch>& batch, const int32_t* indices, int64_t n,
    arrow::MemoryPool* pool);

/// The positions i in [0, n) with keep[i] != 0, ascending, into *out (resized).
/// REQUIRES: keep[i] is 0 or 1.
void SelectionFromBytes(const uint8_t* keep, int64_t n, std::vector<int32_t>* out);

/// The positions i in [0, n) whose bit is set in `values` and (if not null) in
/// `validity`, both read from bit `offset`, into *out.
void SelectionFromBits(const uint8_t* values, const uint8_t* validity, int64_t offset,
                       int64_t n, std::vector<int32_t>* out);

}  // namespace sluice::exec
