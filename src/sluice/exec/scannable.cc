#include "sluice/exec/scannable.h"

#include "sluice/exec/dictionary_columns.h"

namespace sluice::exec {

InMemoryTable::InMemoryTable(std::shared_ptr<arrow::Table> table, std::string description)
    : table_(std::move(table)),
      schema_(LogicalSchema(table_->schema())),
      description_(std::move(description)) {}

Result<std::shared_ptr<Source>> InMemoryTable::MakeSource(
    const std::vector<int>& projection, const std::vector<expr::Expr>&) const {
  ARROW_ASSIGN_OR_RAISE(auto projected, table_->SelectColumns(projection));
  if (projected->num_columns() == 0) {
    // No columns (count(*), SELECT without FROM): batches that carry only a length.
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
    const int64_t chunk = 1 << 16;
    for (int64_t off = 0; off < projected->num_rows(); off += chunk) {
      batches.push_back(arrow::RecordBatch::Make(
          projected->schema(), std::min(chunk, projected->num_rows() - off),
          arrow::ArrayVector{}));
    }
    return std::make_shared<BatchListSource>(std::move(batches), "Scan " + description_);
  }
  arrow::TableBatchReader reader(*projected);
  ARROW_ASSIGN_OR_RAISE(auto batches, reader.ToRecordBatches());
  if (batches.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto empty, arrow::RecordBatch::MakeEmpty(projected->schema()));
    batches.push_back(empty);
  }
  return std::make_shared<BatchListSource>(std::move(batches), "Scan " + description_);
}

BatchListSource::BatchListSource(std::vector<std::shared_ptr<arrow::RecordBatch>> batches,
                                 std::string name)
    : PhysicalNode(std::move(name)), batches_(std::move(batches)) {}

Status BatchListSource::Prepare(ExecContext* ctx) {
  morsels_.clear();
  const int64_t rows = ctx->batch_rows();
  for (const auto& b : batches_) {
    if (b->num_rows() <= rows) {
      morsels_.push_back(b);
      continue;
    }
    for (int64_t off = 0; off < b->num_rows(); off += rows)
      morsels_.push_back(b->Slice(off, rows));
  }
  return Status::OK();
}

void BatchListSource::AllowDictionaryColumns(const std::vector<int>& columns) {
  if (batches_.empty()) return;
  keep_dictionary_.assign(batches_[0]->num_columns(), false);
  for (int c : columns) {
    if (c >= 0 && c < static_cast<int>(keep_dictionary_.size()))
      keep_dictionary_[c] = true;
  }
}

Status BatchListSource::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  ARROW_ASSIGN_OR_RAISE(auto batch,
                        DecodeDictionaries(morsels_[morsel], keep_dictionary_));
  return out->Emit(Batch{std::move(batch), MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
