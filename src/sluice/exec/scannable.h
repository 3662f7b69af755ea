#pragma once
// How the physical planner turns a plan::TableSource into an exec::Source: connectors
// implement both interfaces on one class.
#include <memory>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/table_source.h"

namespace sluice::exec {

class Scannable {
 public:
  virtual ~Scannable() = default;
  /// A source producing the columns `projection` (indices into the table schema, in
  /// that order). `pruning_predicates` are bound against the projected schema and may
  /// be used to skip data that cannot match; rows are still filtered above the scan.
  virtual Result<std::shared_ptr<Source>> MakeSource(
      const std::vector<int>& projection,
      const std::vector<expr::Expr>& pruning_predicates) const = 0;
};

/// An in-memory table (results of earlier steps, Arrow data from the API). Its
/// dictionary-encoded columns have their value types in schema() and reach the
/// consumers that do not take dictionaries decoded (dictionary_columns.h).
class InMemoryTable : public plan::TableSource, public Scannable {
 public:
  InMemoryTable(std::shared_ptr<arrow::Table> table, std::string description);
  std::string Describe() const override { return description_; }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  std::optional<int64_t> EstimatedRows() const override { return table_->num_rows(); }
  Result<std::shared_ptr<Source>> MakeSource(
      const std::vector<int>& projection,
      const std::vector<expr::Expr>& pruning_predicates) const override;
  const std::shared_ptr<arrow::Table>& table() const { return table_; }

 private:
  std::shared_ptr<arrow::Table> table_;
  std::shared_ptr<arrow::Schema> schema_;  // logical: dictionary value types
  std::string description_;
};

/// A source over a fixed list of batches, one morsel per batch (after splitting
/// batches larger than batch_rows). Dictionary columns are decoded unless allowed.
class BatchListSource : public Source {
 public:
  explicit BatchListSource(std::vector<std::shared_ptr<arrow::RecordBatch>> batches,
                           std::string name = "BatchList");
  Status Prepare(ExecContext* ctx) override;
  int64_t num_morsels() const override { return static_cast<int64_t>(morsels_.size()); }
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;
  void AllowDictionaryColumns(const std::vector<int>& columns) override;

 private:
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches_;
  std::vector<bool> keep_dictionary_;  // by column
  std::vector<std::shared_ptr<arrow::RecordBatch>> morsels_;
};

}  // namespace sluice::exec
