#pragma once
// Sort and top-k (ORDER BY, ORDER BY ... LIMIT k): a pipeline breaker.
//
// Workers collect their input (accounted under "Sort"); Finalize orders all rows by the
// keys — ascending/descending, NULLs first/last per key, NaN after every other number,
// ties kept in arrival order — and emits morsels whose seq follows the order. With a
// limit only the first `limit` rows are produced (partial sort).
#include <arrow/array.h>
#include <arrow/util/decimal.h>

#include <cmath>
#include <mutex>

#include "sluice/exec/batch_collector.h"
#include "sluice/exec/operator.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

class SortSink : public Sink, public Source {
 public:
  SortSink(std::vector<plan::SortKey> keys, int64_t limit,
           std::shared_ptr<arrow::Schema> schema);

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  bool ordered() const override { return true; }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  std::vector<plan::SortKey> keys_;
  int64_t limit_;
  std::shared_ptr<arrow::Schema> schema_;
  BatchCollector collected_;
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

  // <0, 0, >0 comparing non-null values of rows a and b (ascending).
  int CompareValues(int64_t a, int64_t b) const {
    switch (kind) {
      case kInt:
        return (i64[a] > i64[b]) - (i64[a] < i64[b]);
      case kUInt:
        return (u64[a] > u64[b]) - (u64[a] < u64[b]);
      case kDouble: {
        double x = f64[a], y = f64[b];
        bool nx = std::isnan(x), ny = std::isnan(y);
        if (nx || ny) return nx - ny;  // NaN sorts after every number
        return (x > y) - (x < y);
      }
      case kDecimal: {
        const auto& d = static_cast<const arrow::Decimal128Array&>(*array);
        arrow::Decimal128 x(d.GetValue(a)), y(d.GetValue(b));
        return (x > y) - (x < y);
      }
      case kString: {
        const auto& s = static_cast<const arrow::StringArray&>(*array);
        return s.GetView(a).compare(s.GetView(b));
      }
      case kLargeString: {
        const auto& s = static_cast<const arrow::LargeStringArray&>(*array);
        return s.GetView(a).compare(s.GetView(b));
      }
    }
    return 0;
  }

  /// <0, 0, >0: row a sorts before, with, after row b (direction and NULL placement
  /// applied).
  int Compare(int64_t a, int64_t b) const {
    bool na = array->IsNull(a), nb = array->IsNull(b);
    if (na || nb) {
      if (na && nb) return 0;
      return (na ? -1 : 1) * (nulls_first ? 1 : -1);
    }
    int c = CompareValues(a, b);
    return ascending ? c : -c;
  }
};

/// Row order of `batch` by `keys` (evaluated on the batch): the first `limit` row
/// indices (all if limit < 0).
Result<std::vector<int64_t>> SortIndices(const arrow::RecordBatch& batch,
                                         const std::vector<plan::SortKey>& keys,
                                         int64_t limit);

}  // namespace sluice::exec
