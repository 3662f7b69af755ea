#pragma once
// LIMIT/OFFSET: a breaker that keeps rows [offset, offset + limit) of its input in seq
// order (so it honours an ORDER BY below it). Retained rows are accounted under
// "Limit"; a worker stops keeping batches once it holds enough rows on its own.
#include <mutex>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/dictionary_columns.h"
#include "sluice/exec/operator.h"

namespace sluice::exec {

class LimitSink : public Sink, public Source {
 public:
  LimitSink(int64_t limit, int64_t offset, std::shared_ptr<arrow::Schema> schema);
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;
  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  bool ordered() const override { return true; }
  int64_t num_morsels() const override { return static_cast<int64_t>(out_.size()); }
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  int64_t limit_;
  int64_t offset_;
  std::shared_ptr<arrow::Schema> schema_;
  BatchCollector collected_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> out_;
};

/// Collects a pipeline's final output into a table, in seq order. With
/// `keep_dictionaries`, string columns that arrive dictionary-encoded in every batch stay
/// so in the table (TableKeepingDictionaries); otherwise none may arrive so.
class CollectSink : public Sink {
 public:
  explicit CollectSink(std::shared_ptr<arrow::Schema> schema,
                       TableStrings strings = TableStrings::kPlain);
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;
  std::string what_it_writes() const override { return "a query's table of rows"; }
  bool takes_result() const override { return true; }
  /// Valid after Finalize.
  const std::shared_ptr<arrow::Table>& table() const { return table_; }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  TableStrings strings_;
  BatchCollector collected_;
  std::shared_ptr<arrow::Table> table_;
};

}  // namespace sluice::exec
