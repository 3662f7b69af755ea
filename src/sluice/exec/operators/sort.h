#pragma once
// Sort and top-k (ORDER BY, ORDER BY ... LIMIT k): a pipeline breaker.
//
// Workers collect their input (accounted under "Sort"); Finalize orders all rows (a
// slice per thread, then merged: SortIndices) by the keys — ascending/descending, NULLs
// first/last per key, NaN after every other number, ties kept in arrival order — and
// emits morsels whose seq follows the order. With a limit only the first `limit` rows are
// produced (partial sort). Spilling (docs/design/spilling.md): a worker whose buffer
// cannot grow sorts it and writes it to disk as a sorted run, with each row's batch seq
// and row number for the ties; the other workers follow at their next batch. Once
// anything spilled, Finalize writes the rest as runs too, and the source is one morsel
// that merges every run (one batch of each in memory at a time). Top-k keeps O(k) rows
// and does not spill.
#include <arrow/array.h>
#include <arrow/util/decimal.h>

#include <atomic>
#include <cmath>
#include <mutex>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/operator.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

class SpillSet;

class SortSink : public Sink, public Source {
 public:
  SortSink(std::vector<plan::SortKey> keys, int64_t limit,
           std::shared_ptr<arrow::Schema> schema);
  ~SortSink() override;

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  bool ordered() const override { return true; }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

  /// Rows per batch of a spilled run.
  static constexpr int64_t kRunBatchRows = 8192;
  /// Runs merged at once at the most (each holds a file open).
  static constexpr int64_t kMaxFanIn = 128;

 private:
  // Sorts `batches` (in seq order) into a run on disk.
  Status WriteRun(ExecContext* ctx, std::vector<Batch> batches);
  // Emits the rows of every run in order (the one morsel of a spilled sort), first
  // merging runs in groups while more than the limit can read at once.
  Status MergeRuns(ExecContext* ctx, Emitter* out);
  // Emits the first `limit` rows of runs [first, first + count) of `set` in order, with
  // the two tie columns (`keep_ties`) or without.
  Status MergeRunRange(ExecContext* ctx, const SpillSet& set, int64_t first,
                       int64_t count, bool keep_ties, int64_t limit, Emitter* out);

  std::vector<plan::SortKey> keys_;
  int64_t limit_;
  std::shared_ptr<arrow::Schema> schema_;
  BatchCollector collected_;
  std::mutex spill_mu_;
  std::unique_ptr<SpillSet> spill_;       // made by the first spill (under spill_mu_)
  std::atomic<int> spill_generation_{0};  // bumped by every worker that ran out
  bool spilled_ = false;                  // after Finalize: Produce merges spill_'s runs
  std::shared_ptr<arrow::RecordBatch> sorted_input_;
  std::shared_ptr<arrow::Int64Array> order_;
  int64_t batch_rows_ = 65536;
};

/// One evaluated sort key: compares rows of `array` in the key's order. Values compare
/// as numbers (integers, floats with NaN after every other number, decimals, dates and
/// times as their ticks), strings bytewise; -0.0 equals 0.0 and NaN equals NaN, so
/// rows that compare equal are SQL peers. Holds views into `array`, which it keeps
/// alive. Thread-safe for concurrent Compare calls.
struct SortKeyColumn {
  enum Kind { kInt, kUInt, kDouble, kDecimal, kString, kLargeString } kind;
  std::shared_ptr<arrow::Array> array;
  const int64_t* i64 = nullptr;
  const uint64_t* u64 = nullptr;
  const double* f64 = nullptr;
  bool ascending = true;
  bool nulls_first = false;

  /// Fails (NotImplemented) for types the sort cannot order.
  static Result<SortKeyColumn> Make(std::shared_ptr<arrow::Array> array,
                                    bool ascending = true, bool nulls_first = false);

  bool IsNull(int64_t i) const { return array->IsNull(i); }

  // <0, 0, >0 comparing the non-null values of row a here and row b of `other` (a
  // column of the same kind, possibly `*this`), ascending.
  int CompareValues(int64_t a, const SortKeyColumn& other, int64_t b) const {
    switch (kind) {
      case kInt:
        return (i64[a] > other.i64[b]) - (i64[a] < other.i64[b]);
      case kUInt:
        return (u64[a] > other.u64[b]) - (u64[a] < other.u64[b]);
      case kDouble: {
        double x = f64[a], y = other.f64[b];
        bool nx = std::isnan(x), ny = std::isnan(y);
        if (nx || ny) return nx - ny;  // NaN sorts after every number
        return (x > y) - (x < y);
      }
      case kDecimal: {
        // As 128-bit integers, inline (Decimal128's comparisons are out-of-line calls).
        auto value = [](const uint64_t* words, int64_t i) {
          return static_cast<__int128>(
              (static_cast<unsigned __int128>(words[2 * i + 1]) << 64) | words[2 * i]);
        };
        const __int128 x = value(u64, a), y = value(other.u64, b);
        return (x > y) - (x < y);
      }
      case kString:
        return static_cast<const arrow::StringArray&>(*array).GetView(a).compare(
            static_cast<const arrow::StringArray&>(*other.array).GetView(b));
      case kLargeString:
        return static_cast<const arrow::LargeStringArray&>(*array).GetView(a).compare(
            static_cast<const arrow::LargeStringArray&>(*other.array).GetView(b));
    }
    return 0;
  }
  int CompareValues(int64_t a, int64_t b) const { return CompareValues(a, *this, b); }

  /// <0, 0, >0: row a here sorts before, with, after row b of `other` (a column made
  /// for the same key from another batch of the same schema; by default this one), with
  /// direction and NULL placement applied.
  int Compare(int64_t a, const SortKeyColumn& other, int64_t b) const {
    bool na = array->IsNull(a), nb = other.array->IsNull(b);
    if (na || nb) {
      if (na && nb) return 0;
      return (na ? -1 : 1) * (nulls_first ? 1 : -1);
    }
    int c = CompareValues(a, other, b);
    return ascending ? c : -c;
  }
  int Compare(int64_t a, int64_t b) const { return Compare(a, *this, b); }
};

/// Values as unsigned integers in the same order (for sorting by integer compares):
/// integers with the sign bit flipped; doubles with every NaN after +inf and -0.0 equal
/// to 0.0, as SortKeyColumn orders them.
inline uint64_t OrderedBits(int64_t v) {
  return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
}
uint64_t OrderedBits(double d);

/// Row order of `batch` by `keys` (evaluated on the batch), ties by row: the first
/// `limit` row indices (all if limit < 0). A full sort of at least kParallelSortRows
/// rows sorts a slice per thread on `threads` threads and merges them.
inline constexpr int64_t kParallelSortRows = 1 << 16;
Result<std::vector<int64_t>> SortIndices(const arrow::RecordBatch& batch,
                                         const std::vector<plan::SortKey>& keys,
                                         int64_t limit, int threads = 1);

}  // namespace sluice::exec
