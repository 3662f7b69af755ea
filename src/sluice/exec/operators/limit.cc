#include "sluice/exec/operators/limit.h"

#include <algorithm>

namespace sluice::exec {

namespace {
struct BatchesLocal : LocalSinkState {
  std::vector<Batch> batches;
  int64_t rows = 0;
  MemoryReservation reservation;
};

void SortBySeq(std::vector<Batch>* batches) {
  std::stable_sort(batches->begin(), batches->end(),
                   [](const Batch& a, const Batch& b) { return a.seq < b.seq; });
}
}  // namespace

LimitSink::LimitSink(int64_t limit, int64_t offset, std::shared_ptr<arrow::Schema> schema)
    : PhysicalNode("Limit"), limit_(limit), offset_(offset), schema_(std::move(schema)) {}

Result<std::unique_ptr<LocalSinkState>> LimitSink::MakeLocal(ExecContext* ctx, int) {
  auto l = std::make_unique<BatchesLocal>();
  l->reservation = MemoryReservation(ctx->budget(), name());
  return l;
}

Status LimitSink::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  auto* l = static_cast<BatchesLocal*>(base);
  ARROW_RETURN_NOT_OK(l->reservation.Grow(BatchMemory(*batch.data)));
  l->rows += batch.data->num_rows();
  l->batches.push_back(std::move(batch));
  // Keep only what can still matter: the smallest seqs covering offset + limit rows.
  if (limit_ >= 0 && l->rows > 2 * (limit_ + offset_) + 65536) {
    SortBySeq(&l->batches);
    int64_t kept = 0;
    size_t k = 0;
    while (k < l->batches.size() && kept < limit_ + offset_)
      kept += l->batches[k++].data->num_rows();
    l->batches.resize(k);
    l->rows = kept;
    int64_t bytes = 0;
    for (const auto& b : l->batches) bytes += BatchMemory(*b.data);
    ARROW_RETURN_NOT_OK(l->reservation.Resize(bytes));
  }
  return Status::OK();
}

Status LimitSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  auto* l = static_cast<BatchesLocal*>(base.get());
  std::lock_guard<std::mutex> lock(mu_);
  if (reservation_.owner().empty())
    reservation_ = MemoryReservation(ctx->budget(), name());
  int64_t bytes = l->reservation.size();
  l->reservation.Clear();
  ARROW_RETURN_NOT_OK(reservation_.Grow(bytes));
  for (auto& b : l->batches) batches_.push_back(std::move(b));
  return Status::OK();
}

Status LimitSink::Finalize(ExecContext* ctx) {
  SortBySeq(&batches_);
  int64_t skip = offset_;
  int64_t remaining = limit_ < 0 ? std::numeric_limits<int64_t>::max() : limit_;
  for (const auto& b : batches_) {
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
  batches_.clear();
  return Status::OK();
}

Status LimitSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  return out->Emit(Batch{out_[morsel], MorselSeq(morsel, 0)});
}

CollectSink::CollectSink(std::shared_ptr<arrow::Schema> schema)
    : PhysicalNode("Collect"), schema_(std::move(schema)) {}

Result<std::unique_ptr<LocalSinkState>> CollectSink::MakeLocal(ExecContext* ctx, int) {
  auto l = std::make_unique<BatchesLocal>();
  l->reservation = MemoryReservation(ctx->budget(), name());
  return l;
}

Status CollectSink::Consume(ExecContext* ctx, LocalSinkState* base, Batch batch) {
  auto* l = static_cast<BatchesLocal*>(base);
  ARROW_RETURN_NOT_OK(l->reservation.Grow(BatchMemory(*batch.data)));
  metrics().rows_out += batch.data->num_rows();
  l->batches.push_back(std::move(batch));
  return Status::OK();
}

Status CollectSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> base) {
  auto* l = static_cast<BatchesLocal*>(base.get());
  std::lock_guard<std::mutex> lock(mu_);
  if (reservation_.owner().empty())
    reservation_ = MemoryReservation(ctx->budget(), name());
  int64_t bytes = l->reservation.size();
  l->reservation.Clear();
  ARROW_RETURN_NOT_OK(reservation_.Grow(bytes));
  for (auto& b : l->batches) batches_.push_back(std::move(b));
  return Status::OK();
}

Status CollectSink::Finalize(ExecContext* ctx) {
  SortBySeq(&batches_);
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  for (auto& b : batches_) {
    if (b.data->num_rows() > 0) rbs.push_back(b.data);
  }
  batches_.clear();
  ARROW_ASSIGN_OR_RAISE(table_, arrow::Table::FromRecordBatches(schema_, rbs));
  return Status::OK();
}

}  // namespace sluice::exec
