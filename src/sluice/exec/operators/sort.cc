#include "sluice/exec/operators/sort.h"

#include <arrow/compute/api.h>
#include <arrow/util/decimal.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace cp = arrow::compute;

Result<SortKeyColumn> SortKeyColumn::Make(std::shared_ptr<arrow::Array> arr,
                                          bool ascending, bool nulls_first) {
  SortKeyColumn k;
  k.ascending = ascending;
  k.nulls_first = nulls_first;
  const auto& t = *arr->type();
  auto view64 =
      [&](std::shared_ptr<arrow::DataType> as) -> Result<std::shared_ptr<arrow::Array>> {
    return arr->View(as);
  };
  switch (t.id()) {
    case arrow::Type::UINT64:
      k.kind = SortKeyColumn::kUInt;
      k.array = arr;
      k.u64 = arr->data()->GetValues<uint64_t>(1);
      return k;
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::float64()));
      k.kind = SortKeyColumn::kDouble;
      k.array = d.make_array();
      k.f64 = k.array->data()->GetValues<double>(1);
      return k;
    }
    case arrow::Type::DECIMAL128:
      k.kind = SortKeyColumn::kDecimal;
      k.array = arr;
      return k;
    case arrow::Type::STRING:
      k.kind = SortKeyColumn::kString;
      k.array = arr;
      return k;
    case arrow::Type::LARGE_STRING:
      k.kind = SortKeyColumn::kLargeString;
      k.array = arr;
      return k;
    case arrow::Type::STRING_VIEW: {
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, arrow::utf8()));
      k.kind = SortKeyColumn::kString;
      k.array = d.make_array();
      return k;
    }
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DATE64:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION: {
      k.kind = SortKeyColumn::kInt;
      ARROW_ASSIGN_OR_RAISE(k.array, view64(arrow::int64()));
      k.i64 = k.array->data()->GetValues<int64_t>(1);
      return k;
    }
    case arrow::Type::DATE32:
    case arrow::Type::TIME32: {
      ARROW_ASSIGN_OR_RAISE(auto v, arr->View(arrow::int32()));
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(v, arrow::int64()));
      k.kind = SortKeyColumn::kInt;
      k.array = d.make_array();
      k.i64 = k.array->data()->GetValues<int64_t>(1);
      return k;
    }
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32: {
      std::shared_ptr<arrow::Array> src = arr;
      if (t.id() == arrow::Type::BOOL) {
        ARROW_ASSIGN_OR_RAISE(auto b, cp::Cast(arr, arrow::int8()));
        src = b.make_array();
      }
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(src, arrow::int64()));
      k.kind = SortKeyColumn::kInt;
      k.array = d.make_array();
      k.i64 = k.array->data()->GetValues<int64_t>(1);
      return k;
    }
    case arrow::Type::NA:
      k.kind = SortKeyColumn::kInt;
      k.array = arr;
      return k;
    default:
      return Status::NotImplemented("cannot sort by a column of type ", t.ToString());
  }
}

Result<std::vector<int64_t>> SortIndices(const arrow::RecordBatch& batch,
                                         const std::vector<plan::SortKey>& keys,
                                         int64_t limit) {
  std::vector<SortKeyColumn> cols;
  for (const auto& key : keys) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(key.expr, batch));
    ARROW_ASSIGN_OR_RAISE(auto col,
                          SortKeyColumn::Make(arr, key.ascending, key.nulls_first));
    cols.push_back(std::move(col));
  }
  std::vector<int64_t> idx(batch.num_rows());
  std::iota(idx.begin(), idx.end(), 0);
  auto less = [&](int64_t a, int64_t b) {
    for (const auto& c : cols) {
      int r = c.Compare(a, b);
      if (r != 0) return r < 0;
    }
    return a < b;  // ties: arrival order
  };
  if (limit >= 0 && limit < static_cast<int64_t>(idx.size())) {
    std::partial_sort(idx.begin(), idx.begin() + limit, idx.end(), less);
    idx.resize(limit);
  } else {
    std::sort(idx.begin(), idx.end(), less);
  }
  return idx;
}

SortSink::SortSink(std::vector<plan::SortKey> keys, int64_t limit,
                   std::shared_ptr<arrow::Schema> schema)
    : PhysicalNode(limit >= 0 ? "TopK" : "Sort"),
      keys_(std::move(keys)),
      limit_(limit),
      schema_(std::move(schema)),
      collected_(limit >= 0 ? "TopK" : "Sort") {}

Result<std::unique_ptr<LocalSinkState>> SortSink::MakeLocal(ExecContext* ctx,
                                                            int worker) {
  return collected_.MakeLocal(ctx);
}

Status SortSink::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<CollectedBatches*>(local_base);
  ARROW_RETURN_NOT_OK(local->Add(std::move(batch)));
  metrics().RecordPeak(local->reservation.size());
  // Top-k: a worker never needs more than its own best `limit` rows. Compact when the
  // buffer holds well over that, so memory stays O(k) per worker.
  if (limit_ >= 0 && local->rows > std::max<int64_t>(4 * limit_, 1 << 16)) {
    std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
    for (auto& b : local->batches) rbs.push_back(b.data);
    ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema_, rbs));
    ARROW_ASSIGN_OR_RAISE(auto combined, table->CombineChunksToBatch(ctx->pool()));
    ARROW_ASSIGN_OR_RAISE(auto idx, SortIndices(*combined, keys_, limit_));
    arrow::Int64Builder b;
    ARROW_RETURN_NOT_OK(b.AppendValues(idx));
    ARROW_ASSIGN_OR_RAISE(auto indices, b.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken,
                          cp::Take(arrow::Datum(combined), arrow::Datum(indices)));
    // Ties keep arrival order: the kept rows take the smallest seq of what they replace.
    int64_t seq = local->batches.front().seq;
    for (const auto& kept : local->batches) seq = std::min(seq, kept.seq);
    ARROW_RETURN_NOT_OK(local->Reset({Batch{taken.record_batch(), seq}}));
  }
  return Status::OK();
}

Status SortSink::FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) {
  return collected_.Merge(ctx, std::move(local));
}

Status SortSink::Finalize(ExecContext* ctx) {
  batch_rows_ = ctx->batch_rows();
  // Arrival order across workers is arbitrary; order by seq so ties are deterministic
  // when the input is.
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  for (auto& b : collected_.TakeInOrder()) rbs.push_back(b.data);
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema_, rbs));
  ARROW_ASSIGN_OR_RAISE(sorted_input_, table->CombineChunksToBatch(ctx->pool()));
  rbs.clear();
  ARROW_RETURN_NOT_OK(collected_.reservation().Resize(BatchMemory(*sorted_input_) * 2));
  ARROW_ASSIGN_OR_RAISE(auto idx, SortIndices(*sorted_input_, keys_, limit_));
  arrow::Int64Builder b;
  ARROW_RETURN_NOT_OK(b.AppendValues(idx));
  ARROW_ASSIGN_OR_RAISE(auto arr, b.Finish());
  order_ = std::static_pointer_cast<arrow::Int64Array>(arr);
  return Status::OK();
}

int64_t SortSink::num_morsels() const {
  if (!order_) return 0;
  return (order_->length() + batch_rows_ - 1) / batch_rows_;
}

Status SortSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  auto indices = order_->Slice(morsel * batch_rows_, batch_rows_);
  ARROW_ASSIGN_OR_RAISE(auto taken,
                        cp::Take(arrow::Datum(sorted_input_), arrow::Datum(indices)));
  return out->Emit(Batch{taken.record_batch(), MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
