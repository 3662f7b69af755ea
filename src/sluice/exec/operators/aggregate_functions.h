#pragma once
// Grouped accumulators: the state of one aggregate function for many groups.
//
// Decomposable aggregates (count, sum, avg, min, max, variance, bool_and/or,
// first/last) keep fixed-size state per group; holistic ones (median, quantile,
// string_agg, and any DISTINCT aggregate) keep the values and finish at Finalize.
// Parallel aggregation runs one accumulator per worker and merges them.
//
// Semantics: aggregates skip NULL inputs (two-argument ones skip rows where either is
// NULL); on a group with no non-null input sum, avg,
// min, max, ... return NULL and count returns 0. first/last/any_value return the first
// or last non-null value in arrival order (not deterministic across threads unless the
// input is ordered). Integer sums that overflow int64 fail.
#include <arrow/array.h>

#include <memory>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

/// A mapping entry of Merge: this group is not merged here.
constexpr uint32_t kNoGroup = 0xFFFFFFFFu;

class GroupedAccumulator {
 public:
  virtual ~GroupedAccumulator() = default;
  /// Makes room for groups [0, num_groups).
  virtual Status Resize(int64_t num_groups) = 0;
  /// Adds rows: arg[i] (arg is null for count(*)) to group ids[i], for i < n.
  virtual Status Update(const std::shared_ptr<arrow::Array>& arg, const uint32_t* ids,
                        int64_t n) = 0;
  /// Adds other's group g into this accumulator's group mapping[g]. `other` has the
  /// same dynamic type. Where PartialMerge() is true, `other` is left unchanged (a
  /// window pane merges into several windows) and groups mapped to kNoGroup are left
  /// out: several accumulators may then each merge their share of `other`'s groups
  /// concurrently. Otherwise `other` is left in an unspecified state.
  virtual Status Merge(GroupedAccumulator* other, const uint32_t* mapping) = 0;
  /// Adds other's groups from[j] into this accumulator's groups to[j], for j < n: a
  /// list of other's groups (several accumulators may each merge a disjoint list
  /// concurrently). `other` may be this accumulator (from[j] != to[j]: merging session
  /// windows). Only where PartialMerge() is true (NotImplemented otherwise).
  virtual Status MergeSome(GroupedAccumulator* other, const uint32_t* from,
                           const uint32_t* to, int64_t n);
  /// Whether Merge skips kNoGroup (decomposable aggregates); holistic ones, which keep
  /// their values, merge only whole.
  virtual bool PartialMerge() const { return true; }
  /// One value per group, of the aggregate's result type.
  virtual Result<std::shared_ptr<arrow::Array>> Finalize() = 0;
  /// Bytes held (for memory accounting).
  virtual int64_t MemoryUsage() const = 0;

  /// Spilling, for the aggregates whose PartialMerge() is true (the others fail with
  /// NotImplemented): the state of groups groups[0..n) as one array, row i holding
  /// group groups[i]'s. REQUIRES: each groups[i] < the size of the last Resize.
  virtual Result<std::shared_ptr<arrow::Array>> SaveState(const uint32_t* groups,
                                                          int64_t n) const;
  /// Replaces the whole state by `state` (from SaveState of an accumulator of the same
  /// aggregate): groups [0, state.length()), ready to be Merge's `other`.
  virtual Status LoadState(const arrow::Array& state);
};

/// True for aggregates of two arguments (corr, covar_samp, covar_pop): their
/// accumulator's Update gets a struct array {x, y} of both.
bool IsPairAggregate(const std::string& name);

/// The array an aggregate's accumulator is updated with, over `batch`: its argument
/// (null for count(*)), or for the pair aggregates a struct {x, y} of both.
Result<std::shared_ptr<arrow::Array>> AggregateArgument(const expr::ExprNode& aggregate,
                                                        const arrow::RecordBatch& batch);

/// Creates the accumulator for a bound Aggregate expression (its `type` set by the
/// planner, its argument types bound).
Result<std::unique_ptr<GroupedAccumulator>> MakeAccumulator(
    const expr::ExprNode& aggregate);

}  // namespace sluice::exec
