#include "sluice/exec/operators/limit.h"

#include <algorithm>

#include "sluice/exec/dictionary_columns.h"

namespace sluice::exec {

LimitSink::LimitSink(int64_t limit, int64_t offset, std::shared_ptr<arrow::Schema> schema)
    : PhysicalNode("Limit"),
      limit_(limit),
      offset_(offset),
      schema_(std::move(schema)),
      collected_("Limit") {}

Result<std::unique_ptr<LocalSinkState>> LimitSink::MakeLocal(ExecContext* ctx, int) {
  return collected_.MakeLocal(ctx);
}

Status LimitSink::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  auto* l = static_cast<CollectedBatches*>(base);
  ARROW_RETURN_NOT_OK(l->Add(std::move(batch)));
  // Keep only what can still matter: the smallest seqs covering offset + limit rows.
  if (limit_ >= 0 && l->rows > 2 * (limit_ + offset_) + 65536) {
    SortBySeq(&l->batches);
    int64_t kept = 0;
    size_t k = 0;
    while (k < l->batches.size() && kept < limit_ + offset_) {
      kept += l->batches[k++].data->num_rows();
    }
    l->batches.resize(k);
    ARROW_RETURN_NOT_OK(l->Reset(std::move(l->batches)));
  }
  return Status::OK();
}

Status LimitSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  return collected_.Merge(ctx, std::move(base));
}

Status LimitSink::Finalize(ExecContext* ctx) {
  int64_t skip = offset_;
  int64_t remaining = limit_ < 0 ? std::numeric_limits<int64_t>::max() : limit_;
  for (const auto& b : collected_.TakeInOrder()) {
    if (remaining <= 0) break;
    int64_t n = b.data->num_rows();
    if (skip >= n) {
      skip -= n;
      continue;
    }
    int64_t take = std::min(n - skip, remaining);
    out_.push_back(b.data->Slice(skip, take));
    remaining -= take;
    skip = 0;
  }
  return Status::OK();
}

Status LimitSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  return out->Emit(Batch{out_[morsel], MorselSeq(morsel, 0)});
}

CollectSink::CollectSink(std::shared_ptr<arrow::Schema> schema, TableStrings strings)
    : PhysicalNode("Collect"),
      schema_(std::move(schema)),
      strings_(strings),
      collected_("Collect") {}

Result<std::unique_ptr<LocalSinkState>> CollectSink::MakeLocal(ExecContext* ctx, int) {
  return collected_.MakeLocal(ctx);
}

Status CollectSink::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  metrics().rows_out += batch.data->num_rows();
  return static_cast<CollectedBatches*>(base)->Add(std::move(batch));
}

Status CollectSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  return collected_.Merge(ctx, std::move(base));
}

Status CollectSink::Finalize(ExecContext* ctx) {
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  for (auto& b : collected_.TakeInOrder()) {
    if (b.data->num_rows() > 0) rbs.push_back(b.data);
  }
  if (strings_ != TableStrings::kPlain) {
    ARROW_ASSIGN_OR_RAISE(
        table_, TableKeepingDictionaries(schema_, rbs,
                                         strings_ == TableStrings::kEncodeRepeated));
  } else {
    ARROW_ASSIGN_OR_RAISE(table_, arrow::Table::FromRecordBatches(schema_, rbs));
  }
  return Status::OK();
}

}  // namespace sluice::exec
