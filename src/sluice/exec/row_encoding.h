#pragma once
// Row encoding of key columns: each row's keys become one byte string, so that keys
// of any types compare with memcmp and hash with one call. Used by hash aggregation
// (group keys), hash joins and distinct aggregates.
//
// Per column: one byte (0 = null, 1 = valid) followed, when valid, by the value:
// fixed-width values as their bytes (floats normalised: -0.0 -> 0.0, every NaN ->
// one NaN), strings as a 4-byte length and the bytes. Equal keys encode equally
// (SQL GROUP BY semantics: NULLs group together, NaNs group together).
#include <arrow/array.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::exec {

/// The encoded keys of one batch.
struct EncodedRows {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets;  // num_rows + 1
  std::vector<uint64_t> hashes;   // num_rows
  std::vector<uint8_t> any_null;  // num_rows: 1 if some key is null (joins skip those)
  int64_t num_rows() const { return static_cast<int64_t>(hashes.size()); }
  std::string_view row(int64_t i) const {
    return std::string_view(reinterpret_cast<const char*>(bytes.data()) + offsets[i],
                            offsets[i + 1] - offsets[i]);
  }
};

/// Checks that every type can be encoded (all the engine's scalar types can).
Status CheckEncodable(const std::vector<std::shared_ptr<arrow::DataType>>& types);

/// Encodes `columns` (all of the same length) into `out` and hashes every row.
Status EncodeRows(const std::vector<std::shared_ptr<arrow::Array>>& columns,
                  EncodedRows* out);

/// Decodes rows (each produced by EncodeRows for columns of `types`) back into arrays.
Result<std::vector<std::shared_ptr<arrow::Array>>> DecodeRows(
    const std::vector<std::string_view>& rows,
    const std::vector<std::shared_ptr<arrow::DataType>>& types, arrow::MemoryPool* pool);

uint64_t HashBytes(const void* data, size_t len);

/// Strings and binaries: plain, large and view layouts.
bool IsBinaryLike(const arrow::DataType& t);

}  // namespace sluice::exec
