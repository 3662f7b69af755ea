#pragma once
// A named input the planner can scan: a file set, an in-memory table, a generator.
// Connectors implement this together with exec::Scannable (which makes the physical
// scan); the planner only needs the schema, size estimates and pushdown abilities.
#include <arrow/type.h>

#include <memory>
#include <optional>
#include <string>

namespace sluice::plan {

class TableSource {
 public:
  virtual ~TableSource() = default;
  /// For EXPLAIN: e.g. "parquet data/orders (4 files)".
  virtual std::string Describe() const = 0;
  virtual std::shared_ptr<arrow::Schema> schema() const = 0;
  /// Estimated rows and bytes (used to pick join build sides and show ETA), if known.
  virtual std::optional<int64_t> EstimatedRows() const { return std::nullopt; }
  virtual std::optional<int64_t> EstimatedBytes() const { return std::nullopt; }
  /// An upper bound on the distinct values of column `column` (e.g. max - min + 1 of an
  /// integer column from file statistics), if cheaply known. Used for join order.
  virtual std::optional<int64_t> EstimatedDistinct(int column) const {
    return std::nullopt;
  }
  /// True if the source can skip data using pushed-down predicates (e.g. Parquet
  /// row-group statistics). Pushed predicates are hints: rows are still filtered above.
  virtual bool SupportsPredicatePruning() const { return false; }
  /// The column of schema() whose event time the source's watermarks follow (no row
  /// at or below a watermark is still to come, late rows aside), or -1 for a source
  /// without event time (its only watermark is +infinity at its end).
  virtual int EventTimeColumn() const { return -1; }
  /// True for a stream without end (Kafka read to no end offset, a generator without
  /// an event count).
  virtual bool Unbounded() const { return false; }
};

}  // namespace sluice::plan
