#include "sluice/exec/operators/sort.h"

#include <arrow/compute/api.h>
#include <arrow/util/decimal.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "sluice/base/parallel.h"
#include "sluice/exec/spill.h"
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
      // Two little-endian words per value: low, then the signed high one.
      k.u64 = k.array->data()->GetValues<uint64_t>(1, k.array->offset() * 2);
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

uint64_t OrderedBits(double d) {
  constexpr uint64_t kSign = uint64_t{1} << 63;
  if (d == 0) d = 0;                                                // -0.0 == 0.0
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();  // after +inf
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return (bits & kSign) != 0 ? ~bits : bits | kSign;
}

namespace {

// What the sort orders rows by first: the first key's NULL placement (rank), then 64
// bits of its value that order as the value does (direction applied), then the row.
// `exact` prefixes (integers, doubles, decimals that fit 64 bits) decide the first key
// alone; the others (strings by their first 8 bytes, wide decimals by their high word)
// leave equal prefixes to the comparator.
struct SortEntry {
  uint64_t prefix;
  uint32_t row;
  uint32_t rank;
};

constexpr uint64_t kSignBit = uint64_t{1} << 63;

uint64_t StringPrefix(std::string_view v) {
  uint64_t p = 0;
  const size_t n = std::min<size_t>(v.size(), 8);
  for (size_t i = 0; i < n; ++i) {
    p |= static_cast<uint64_t>(static_cast<uint8_t>(v[i])) << (56 - 8 * i);
  }
  return p;
}

// The entries of rows [0, n) by key k; *exact: whether equal prefixes mean equal values.
std::vector<SortEntry> MakeEntries(const SortKeyColumn& k, int64_t n, bool* exact) {
  std::vector<SortEntry> e(static_cast<size_t>(n));
  const bool nulls = k.array->null_count() > 0;
  bool fits64 = true;
  if (k.kind == SortKeyColumn::kDecimal) {
    for (int64_t r = 0; r < n && fits64; ++r) {
      if (nulls && k.IsNull(r)) continue;
      const uint64_t lo = k.u64[2 * r], hi = k.u64[2 * r + 1];
      fits64 = hi == ((lo & kSignBit) != 0 ? ~uint64_t{0} : 0);
    }
  }
  *exact = k.kind == SortKeyColumn::kInt || k.kind == SortKeyColumn::kUInt ||
           k.kind == SortKeyColumn::kDouble ||
           (k.kind == SortKeyColumn::kDecimal && fits64);
  for (int64_t r = 0; r < n; ++r) {
    SortEntry& x = e[static_cast<size_t>(r)];
    x.row = static_cast<uint32_t>(r);
    if (nulls && k.IsNull(r)) {
      x.rank = k.nulls_first ? 0 : 2;
      x.prefix = 0;
      continue;
    }
    x.rank = 1;
    uint64_t u = 0;
    switch (k.kind) {
      case SortKeyColumn::kInt:
        u = OrderedBits(k.i64[r]);
        break;
      case SortKeyColumn::kUInt:
        u = k.u64[r];
        break;
      case SortKeyColumn::kDouble:
        u = OrderedBits(k.f64[r]);
        break;
      case SortKeyColumn::kDecimal:
        u = (fits64 ? k.u64[2 * r] : k.u64[2 * r + 1]) ^ kSignBit;
        break;
      case SortKeyColumn::kString:
        u = StringPrefix(static_cast<const arrow::StringArray&>(*k.array).GetView(r));
        break;
      case SortKeyColumn::kLargeString:
        u = StringPrefix(
            static_cast<const arrow::LargeStringArray&>(*k.array).GetView(r));
        break;
    }
    x.prefix = k.ascending ? u : ~u;
  }
  return e;
}

}  // namespace

Result<std::vector<int64_t>> SortIndices(const arrow::RecordBatch& batch,
                                         const std::vector<plan::SortKey>& keys,
                                         int64_t limit, int threads) {
  std::vector<SortKeyColumn> cols;
  for (const auto& key : keys) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(key.expr, batch));
    ARROW_ASSIGN_OR_RAISE(auto col,
                          SortKeyColumn::Make(arr, key.ascending, key.nulls_first));
    cols.push_back(std::move(col));
  }
  const int64_t n = batch.num_rows();
  std::vector<int64_t> idx(n);
  if (cols.empty()) {  // no keys: arrival order
    std::iota(idx.begin(), idx.end(), 0);
    if (limit >= 0 && limit < n) idx.resize(limit);
    return idx;
  }
  if (n >= (int64_t{1} << 32)) {
    return Status::CapacityError("sorting more than 4 billion rows in one batch");
  }
  bool exact = false;
  std::vector<SortEntry> entries = MakeEntries(cols[0], n, &exact);
  // Equal ranks and prefixes: the keys the prefix did not decide, then arrival order.
  const size_t first_undecided = exact ? 1 : 0;
  auto less = [&](const SortEntry& a, const SortEntry& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    for (size_t c = first_undecided; c < cols.size(); ++c) {
      int r = cols[c].Compare(a.row, b.row);
      if (r != 0) return r < 0;
    }
    return a.row < b.row;
  };
  auto to_rows = [&](int64_t count) {
    idx.resize(count);
    for (int64_t i = 0; i < count; ++i) idx[i] = entries[i].row;
  };
  if (limit >= 0 && limit < n) {
    std::partial_sort(entries.begin(), entries.begin() + limit, entries.end(), less);
    to_rows(limit);
    return idx;
  }
  if (threads < 2 || n < kParallelSortRows) {
    std::sort(entries.begin(), entries.end(), less);
    to_rows(n);
    return idx;
  }
  // One slice per thread sorted at once, then merged pairwise, each round's merges in
  // parallel. `less` is a total order (ties by row), so the result is std::sort's.
  std::vector<int64_t> bounds(threads + 1);
  for (int p = 0; p <= threads; ++p) bounds[p] = n * p / threads;
  ARROW_RETURN_NOT_OK(RunWorkers(threads, [&](int p) -> Status {
    std::sort(entries.begin() + bounds[p], entries.begin() + bounds[p + 1], less);
    return Status::OK();
  }));
  std::vector<SortEntry> merged(n);
  for (int width = 1; width < threads; width *= 2) {
    std::vector<std::array<int64_t, 3>> merges;  // [lo, mid) and [mid, hi)
    for (int p = 0; p < threads; p += 2 * width) {
      merges.push_back({bounds[p], bounds[std::min(p + width, threads)],
                        bounds[std::min(p + 2 * width, threads)]});
    }
    const int workers = static_cast<int>(merges.size());
    ARROW_RETURN_NOT_OK(RunWorkers(workers, [&](int m) -> Status {
      const auto [lo, mid, hi] = merges[m];
      std::merge(entries.begin() + lo, entries.begin() + mid, entries.begin() + mid,
                 entries.begin() + hi, merged.begin() + lo, less);
      return Status::OK();
    }));
    entries.swap(merged);
  }
  to_rows(n);
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

SortSink::~SortSink() = default;

Status SortSink::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<CollectedBatches*>(local_base);
  if (limit_ < 0 &&
      local->spill_generation != spill_generation_.load(std::memory_order_relaxed)) {
    // Another worker ran out: free this buffer's memory too.
    local->spill_generation = spill_generation_.load();
    ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(local->batches)));
    ARROW_RETURN_NOT_OK(local->Reset({}));
  }
  Status added = local->Add(batch);
  if (!added.ok()) {
    if (!added.IsOutOfMemory() || limit_ >= 0) return added;
    const int64_t bytes = local->reservation.size() + BatchMemory(*batch.data);
    if (bytes < OverLimitAllowance(*ctx)) {
      // Others hold the budget (a finished worker's buffer, another operator): spilling
      // this little would write a run per batch. A worker may go this much over instead.
      local->reservation.ResizeOverLimit(bytes);
      local->rows += batch.data->num_rows();
      local->batches.push_back(std::move(batch));
      return Status::OK();
    }
    // The buffer goes to disk as a sorted run, this batch with it (its memory is in use
    // whether accounted or not).
    local->batches.push_back(std::move(batch));
    local->spill_generation = ++spill_generation_;
    ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(local->batches)));
    return local->Reset({});
  }
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
  if (limit_ < 0 && spill_generation_.load() > 0) {
    // Once the sort spills, a finished worker's buffer goes to disk too: kept, it would
    // hold budget that the workers still running can no longer spill.
    auto* l = static_cast<CollectedBatches*>(local.get());
    ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(l->batches)));
    ARROW_RETURN_NOT_OK(l->Reset({}));
  }
  return collected_.Merge(ctx, std::move(local));
}

namespace {

// The rows of `batches` with two columns appended, each row's batch seq and its row
// number in that batch: what orders ties across runs.
Result<std::shared_ptr<arrow::RecordBatch>> WithTieColumns(
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<Batch>& batches,
    arrow::MemoryPool* pool) {
  auto out_schema = schema;
  ARROW_ASSIGN_OR_RAISE(
      out_schema, out_schema->AddField(out_schema->num_fields(),
                                       arrow::field("__seq", arrow::int64(), false)));
  ARROW_ASSIGN_OR_RAISE(
      out_schema, out_schema->AddField(out_schema->num_fields(),
                                       arrow::field("__row", arrow::int64(), false)));
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  for (const auto& b : batches) {
    const int64_t n = b.data->num_rows();
    arrow::Int64Builder seq(pool), row(pool);
    ARROW_RETURN_NOT_OK(seq.Reserve(n));
    ARROW_RETURN_NOT_OK(row.Reserve(n));
    for (int64_t i = 0; i < n; ++i) {
      seq.UnsafeAppend(b.seq);
      row.UnsafeAppend(i);
    }
    auto columns = b.data->columns();
    ARROW_ASSIGN_OR_RAISE(auto s, seq.Finish());
    ARROW_ASSIGN_OR_RAISE(auto r, row.Finish());
    columns.push_back(std::move(s));
    columns.push_back(std::move(r));
    rbs.push_back(arrow::RecordBatch::Make(out_schema, n, std::move(columns)));
  }
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(out_schema, rbs));
  return table->CombineChunksToBatch(pool);
}

// One run being merged: its current batch, the batch's evaluated sort keys, and the
// row the merge is at.
struct RunCursor {
  std::unique_ptr<SpillRunReader> reader;
  std::shared_ptr<arrow::RecordBatch> batch;  // null once the run is done
  std::vector<SortKeyColumn> keys;
  const int64_t* seq = nullptr;
  const int64_t* row = nullptr;
  int64_t pos = 0;
  int64_t run = 0;

  // Loads the next non-empty batch (or ends the run).
  Status Advance(const std::vector<plan::SortKey>& sort_keys) {
    pos = 0;
    keys.clear();
    do {
      ARROW_ASSIGN_OR_RAISE(batch, reader->Next());
    } while (batch && batch->num_rows() == 0);
    if (!batch) return Status::OK();
    for (const auto& key : sort_keys) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(key.expr, *batch));
      ARROW_ASSIGN_OR_RAISE(auto col,
                            SortKeyColumn::Make(arr, key.ascending, key.nulls_first));
      keys.push_back(std::move(col));
    }
    const int width = batch->num_columns();
    seq = batch->column(width - 2)->data()->GetValues<int64_t>(1);
    row = batch->column(width - 1)->data()->GetValues<int64_t>(1);
    return Status::OK();
  }

  // Whether this cursor's row sorts before `o`'s (ties: earlier batch, row, run).
  bool Before(const RunCursor& o) const {
    for (size_t k = 0; k < keys.size(); ++k) {
      int c = keys[k].Compare(pos, o.keys[k], o.pos);
      if (c != 0) return c < 0;
    }
    if (seq[pos] != o.seq[o.pos]) return seq[pos] < o.seq[o.pos];
    if (row[pos] != o.row[o.pos]) return row[pos] < o.row[o.pos];
    return run < o.run;
  }
};

// Writes what a merge emits to a run.
class RunWriter : public Emitter {
 public:
  explicit RunWriter(SpillRun* run) : run_(run) {}
  Status Emit(Batch batch) override {
    for (int64_t off = 0; off < batch.data->num_rows(); off += SortSink::kRunBatchRows) {
      ARROW_RETURN_NOT_OK(
          run_->Write(0, *batch.data->Slice(off, SortSink::kRunBatchRows)));
    }
    return Status::OK();
  }
  Status EmitWatermark(Watermark) override { return Status::OK(); }

 private:
  SpillRun* run_;
};

}  // namespace

Status SortSink::WriteRun(ExecContext* ctx, std::vector<Batch> batches) {
  if (batches.empty()) return Status::OK();
  SortBySeq(&batches);
  ARROW_ASSIGN_OR_RAISE(auto combined, WithTieColumns(schema_, batches, ctx->pool()));
  batches.clear();
  ARROW_ASSIGN_OR_RAISE(auto idx, SortIndices(*combined, keys_, -1));
  arrow::Int64Builder b;
  ARROW_RETURN_NOT_OK(b.AppendValues(idx));
  ARROW_ASSIGN_OR_RAISE(auto indices, b.Finish());
  idx = {};
  {
    std::lock_guard<std::mutex> lock(spill_mu_);
    if (!spill_) {
      spill_ = std::make_unique<SpillSet>(ctx, name(), combined->schema(), 1,
                                          &metrics().spilled_bytes);
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto run, spill_->NewRun());
  // Small batches: a merge holds one of every run, and gathers each output batch from
  // the few it holds. Each is taken and written in turn, so that the sorted copy never
  // exists whole beside the input.
  for (int64_t off = 0; off < combined->num_rows(); off += kRunBatchRows) {
    ARROW_ASSIGN_OR_RAISE(auto taken,
                          cp::Take(arrow::Datum(combined),
                                   arrow::Datum(indices->Slice(off, kRunBatchRows))));
    ARROW_RETURN_NOT_OK(run->Write(0, *taken.record_batch()));
  }
  ARROW_RETURN_NOT_OK(run->Close());
  return Status::OK();
}

Status SortSink::MergeRuns(ExecContext* ctx, Emitter* out) {
  // A merge holds one batch of each run it reads. When that is more than half the limit,
  // runs are first merged in groups into longer runs (each pass divides their number
  // by the fan-in), down to a number the limit holds.
  std::unique_ptr<SpillSet> set = std::move(spill_);
  // What one batch of a run takes in memory, about: its rows' share of the bytes written.
  const int64_t rows = std::max<int64_t>(1, set->rows_written());
  const int64_t batch_bytes =
      std::max<int64_t>(1, set->bytes_written() / rows * std::min(rows, kRunBatchRows));
  // At most kMaxFanIn: every run merged holds a file open.
  const int64_t fan_in =
      std::clamp<int64_t>(ctx->budget()->limit() / 2 / batch_bytes, 2, kMaxFanIn);
  while (set->runs() > fan_in) {
    auto next = std::make_unique<SpillSet>(ctx, name(), set->schema(), 1,
                                           &metrics().spilled_bytes);
    for (int64_t first = 0; first < set->runs(); first += fan_in) {
      const int64_t count = std::min(fan_in, set->runs() - first);
      ARROW_ASSIGN_OR_RAISE(auto run, next->NewRun());
      RunWriter writer(run.get());
      ARROW_RETURN_NOT_OK(MergeRunRange(ctx, *set, first, count, /*keep_ties=*/true,
                                        std::numeric_limits<int64_t>::max(), &writer));
      ARROW_RETURN_NOT_OK(run->Close());
    }
    set = std::move(next);  // the merged runs' files go with the old set
  }
  const int64_t limit = limit_ >= 0 ? limit_ : std::numeric_limits<int64_t>::max();
  return MergeRunRange(ctx, *set, 0, set->runs(), /*keep_ties=*/false, limit, out);
}

Status SortSink::MergeRunRange(ExecContext* ctx, const SpillSet& set, int64_t first,
                               int64_t count, bool keep_ties, int64_t limit,
                               Emitter* out) {
  std::vector<RunCursor> cursors(count);
  MemoryReservation held(ctx->budget(), name() + " merge");
  int64_t held_bytes = 0;
  std::vector<int> heap;  // cursor numbers, the next row to emit on top
  auto after = [&](int a, int b) { return cursors[b].Before(cursors[a]); };
  for (int64_t r = 0; r < count; ++r) {
    cursors[r].run = first + r;
    ARROW_ASSIGN_OR_RAISE(cursors[r].reader, set.OpenRun(first + r, 0));
    ARROW_RETURN_NOT_OK(cursors[r].Advance(keys_));
    if (!cursors[r].batch) continue;
    held_bytes += BatchMemory(*cursors[r].batch);
    heap.push_back(static_cast<int>(r));
  }
  held.ResizeOverLimit(held_bytes);
  std::make_heap(heap.begin(), heap.end(), after);
  const int width = schema_->num_fields();
  int64_t remaining = limit;
  int64_t emitted_batches = 0;
  // The next output batch: the run batches it takes rows from (each once, as the
  // cursors held them; rows are taken from each in one contiguous range, [first, end))
  // and, per row, its source and its row there. Rows of runs that interleave come one
  // or two at a time, so they are gathered in one Take of the sources' taken ranges
  // laid end to end rather than cut into slices.
  struct Source {
    std::shared_ptr<arrow::RecordBatch> batch;
    int64_t first = 0, end = 0;
  };
  std::vector<Source> sources;
  std::vector<int64_t> source_of(count, -1);  // per cursor: its batch's place in sources
  std::vector<int32_t> row_source;
  std::vector<int64_t> row_pos;
  auto flush = [&]() -> Status {
    if (row_pos.empty()) return Status::OK();
    std::vector<std::shared_ptr<arrow::RecordBatch>> ranges;
    std::vector<int64_t> base;
    int64_t at = 0;
    for (const auto& src : sources) {
      ranges.push_back(src.batch->Slice(src.first, src.end - src.first));
      base.push_back(at - src.first);
      at += src.end - src.first;
    }
    arrow::Int64Builder positions(ctx->pool());
    ARROW_RETURN_NOT_OK(positions.Reserve(static_cast<int64_t>(row_pos.size())));
    for (size_t i = 0; i < row_pos.size(); ++i) {
      positions.UnsafeAppend(base[row_source[i]] + row_pos[i]);
    }
    ARROW_ASSIGN_OR_RAISE(auto indices, positions.Finish());
    std::shared_ptr<arrow::RecordBatch> combined;
    if (ranges.size() == 1) {
      combined = std::move(ranges[0]);
    } else {
      ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(ranges));
      ARROW_ASSIGN_OR_RAISE(combined, table->CombineChunksToBatch(ctx->pool()));
    }
    sources.clear();
    row_source.clear();
    row_pos.clear();
    std::fill(source_of.begin(), source_of.end(), -1);
    ARROW_ASSIGN_OR_RAISE(auto taken,
                          cp::Take(arrow::Datum(combined), arrow::Datum(indices)));
    combined = taken.record_batch();
    const int64_t seq = MorselSeq(0, emitted_batches++);
    if (keep_ties) return out->Emit(Batch{std::move(combined), seq});
    auto columns = combined->columns();
    columns.resize(width);
    return out->Emit(
        Batch{arrow::RecordBatch::Make(schema_, combined->num_rows(), std::move(columns)),
              seq});
  };
  while (!heap.empty() && remaining > 0) {
    if (ctx->cancelled()) return Status::Cancelled("cancelled");
    std::pop_heap(heap.begin(), heap.end(), after);
    const int ci = heap.back();
    RunCursor& c = cursors[ci];
    if (source_of[ci] < 0) {
      source_of[ci] = static_cast<int64_t>(sources.size());
      sources.push_back(Source{c.batch, c.pos, c.pos});
    }
    // Take this run's rows while they stay ahead of every other run's next row.
    const int64_t start = c.pos;
    const int64_t n = c.batch->num_rows();
    const int64_t room =
        std::min(remaining, batch_rows_ - static_cast<int64_t>(row_pos.size()));
    do {
      ++c.pos;
    } while (c.pos < n && c.pos - start < room &&
             (heap.size() == 1 || !cursors[heap.front()].Before(c)));
    const int32_t si = static_cast<int32_t>(source_of[ci]);
    sources[si].end = c.pos;
    for (int64_t i = start; i < c.pos; ++i) {
      row_source.push_back(si);
      row_pos.push_back(i);
    }
    remaining -= c.pos - start;
    if (static_cast<int64_t>(row_pos.size()) >= batch_rows_) ARROW_RETURN_NOT_OK(flush());
    if (c.pos == n) {
      held_bytes -= BatchMemory(*c.batch);
      source_of[ci] = -1;  // its next batch is another source
      ARROW_RETURN_NOT_OK(c.Advance(keys_));
      if (!c.batch) {
        heap.pop_back();
        held.ResizeOverLimit(held_bytes);
        continue;
      }
      held_bytes += BatchMemory(*c.batch);
      held.ResizeOverLimit(held_bytes);
    }
    std::push_heap(heap.begin(), heap.end(), after);
  }
  return flush();
}

Status SortSink::Finalize(ExecContext* ctx) {
  batch_rows_ = ctx->batch_rows();
  // Arrival order across workers is arbitrary; order by seq so ties are deterministic
  // when the input is.
  std::vector<Batch> batches = collected_.TakeInOrder();
  int64_t bytes = 0;
  for (const auto& b : batches) bytes += BatchMemory(*b.data);
  // Sorting in memory holds the input twice (combined, then taken in order).
  Status room = spill_ ? Status::OK() : collected_.reservation().Resize(bytes * 2);
  if (spill_ || (limit_ < 0 && room.IsOutOfMemory())) {
    // Part of the rows are on disk, or the rest does not fit twice: what is left goes
    // to runs of at most a quarter of the limit each, and Produce merges them all.
    const int64_t chunk = std::max<int64_t>(1, ctx->budget()->limit() / 4);
    std::vector<Batch> part;
    int64_t part_bytes = 0;
    for (auto& b : batches) {
      part_bytes += BatchMemory(*b.data);
      part.push_back(std::move(b));
      if (part_bytes >= chunk) {
        ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(part)));
        part.clear();
        part_bytes = 0;
      }
    }
    ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(part)));
    collected_.reservation().Clear();
    spilled_ = true;
    return Status::OK();
  }
  ARROW_RETURN_NOT_OK(room);
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  for (auto& b : batches) rbs.push_back(std::move(b.data));
  batches.clear();
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema_, rbs));
  ARROW_ASSIGN_OR_RAISE(sorted_input_, table->CombineChunksToBatch(ctx->pool()));
  rbs.clear();
  ARROW_RETURN_NOT_OK(collected_.reservation().Resize(BatchMemory(*sorted_input_) * 2));
  ARROW_ASSIGN_OR_RAISE(auto idx,
                        SortIndices(*sorted_input_, keys_, limit_, ctx->threads()));
  arrow::Int64Builder b;
  ARROW_RETURN_NOT_OK(b.AppendValues(idx));
  ARROW_ASSIGN_OR_RAISE(auto arr, b.Finish());
  order_ = std::static_pointer_cast<arrow::Int64Array>(arr);
  return Status::OK();
}

int64_t SortSink::num_morsels() const {
  if (spilled_) return 1;
  if (!order_) return 0;
  return (order_->length() + batch_rows_ - 1) / batch_rows_;
}

Status SortSink::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  if (spilled_) return MergeRuns(ctx, out);
  auto indices = order_->Slice(morsel * batch_rows_, batch_rows_);
  ARROW_ASSIGN_OR_RAISE(auto taken,
                        cp::Take(arrow::Datum(sorted_input_), arrow::Datum(indices)));
  return out->Emit(Batch{taken.record_batch(), MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
