#pragma once
// Dictionary-encoded columns outside the operators that read them as indices.
//
// A column's logical type is the dictionary's value type: plans, expressions and
// schemas shown to users never see a dictionary type. Physically, a source may hand
// dictionary arrays to consumers that asked for them (Source::AllowDictionaryColumns:
// an aggregate's string keys, a table being collected); everyone else gets them
// decoded. A table kept in memory holds a column dictionary-encoded only if every one of
// its chunks is (chunks may each have their own dictionary).
#include <arrow/api.h>

#include <memory>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::exec {

/// `schema` with each dictionary field replaced by a field of its value type.
std::shared_ptr<arrow::Schema> LogicalSchema(
    const std::shared_ptr<arrow::Schema>& schema);

/// The values of a dictionary array (any other array is returned as it is).
Result<std::shared_ptr<arrow::Array>> DecodeDictionary(
    const std::shared_ptr<arrow::Array>& array);

/// `batch` with its dictionary columns decoded, except column i where keep[i] (keep may
/// be empty: decode all). The batch itself when there is nothing to decode.
Result<std::shared_ptr<arrow::RecordBatch>> DecodeDictionaries(
    const std::shared_ptr<arrow::RecordBatch>& batch, const std::vector<bool>& keep);

/// How a table kept in memory holds its string columns.
enum class TableStrings {
  /// Decoded: exactly the plan's schema.
  kPlain,
  /// Dictionary-encoded where the sources read them so (TableKeepingDictionaries).
  kKeepDictionaries,
  /// That, and plain columns whose values repeat encoded too: a table loaded from files,
  /// read many times (TableKeepingDictionaries with encode_repeated).
  kEncodeRepeated,
};

/// A table of `batches`, whose logical schema is `schema`: a column stays
/// dictionary-encoded where every batch has it so (with one dictionary type); one that
/// only some batches have so is encoded again with one dictionary for the whole table
/// when its values repeat (at most one distinct value in two rows), otherwise decoded.
/// With `encode_repeated`, so is a plain string column whose values repeat (judged on a
/// sample first: columns of mostly unique strings are not hashed whole). No batches: an
/// empty table of `schema`.
Result<std::shared_ptr<arrow::Table>> TableKeepingDictionaries(
    const std::shared_ptr<arrow::Schema>& schema,
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    bool encode_repeated = false);

/// `table` with every dictionary column decoded.
Result<std::shared_ptr<arrow::Table>> DecodeTableDictionaries(
    const std::shared_ptr<arrow::Table>& table);

}  // namespace sluice::exec
