#pragma once
// Rows of a batch as JSON objects: for JSON-lines files and Kafka messages. Numbers as
// JSON numbers (decimals exactly, floats in shortest round-trip form, NaN/Infinity
// unquoted as Python's json module writes them), dates and timestamps as ISO strings,
// other values as their text, NULL as null.
#include <arrow/record_batch.h>

#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::connector {

class JsonRows {
 public:
  /// `"name":` of each field, JSON-escaped, for Make.
  static std::vector<std::string> Keys(const arrow::Schema& schema);
  /// Prepares `batch`'s columns (casts them to the text or numbers written). `keys`
  /// (from Keys of its schema) must outlive the result.
  static Result<JsonRows> Make(const arrow::RecordBatch& batch,
                               const std::vector<std::string>* keys);
  /// Appends row r as one JSON object (no newline).
  void Append(int64_t r, std::string* out) const;

 private:
  const std::vector<std::string>* keys_ = nullptr;
  std::vector<std::shared_ptr<arrow::Array>> cols_;
  std::vector<int> kind_;  // 0 raw text, 1 string, 2 bool, 3 float
};

}  // namespace sluice::connector
