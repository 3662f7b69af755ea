#pragma once
// Hash aggregation (GROUP BY, DISTINCT, global aggregates): a pipeline breaker.
//
// As a Sink, each worker groups its input into a thread-local key index with its own
// accumulators; FinishLocal hands the local state over and Finalize merges them. A
// worker whose first rows point at many times more groups than rows (EstimateDistinct)
// hands over its table every kSegmentGroups groups (when the merge is parallel), so
// that its table stays small. Many
// groups (at least kParallelMergeGroups over all workers) of decomposable aggregates
// merge in parallel: the keys are split into 2 x threads hash partitions and each
// thread merges whole partitions of every worker's state into a table of its own, then
// builds that partition's result; otherwise the workers' tables merge into the first
// one. As a Source it emits the groups in morsels of batch_rows rows (the partitions
// one after another: group order is unspecified).
// A global aggregate (no keys) has exactly one group, even over empty input.
// Memory: key tables, accumulators and the result are accounted under "HashAggregate".
// Spilling (docs/design/spilling.md): when a worker's reservation cannot grow and every
// aggregate is decomposable, the worker writes its groups' keys and partial states,
// split into kSpillPartitions hash partitions, to a run on disk (with the tables set
// aside for the merge) and starts over; the other workers follow at their next batch.
// Once anything spilled, Finalize spills what is still in memory too, and the source
// has one morsel per partition: Produce merges that partition's runs into one table and
// emits its groups. A partition that alone does not fit is split again, by other bits
// of its keys' hash, into kSpillPartitions partitions of a spill set of its own, each
// merged in turn (up to kMaxSpillLevels levels deep: 256^4 times the limit); beyond
// that it fails with the memory error. Holistic aggregates (median, string_agg,
// DISTINCT) do not spill.
#include <atomic>
#include <mutex>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class MergedKeys;
class SpillSet;

class HashAggregate : public Sink, public Source {
 public:
  /// `input_width`: the number of input columns. Subexpressions the aggregates'
  /// arguments share are computed once per batch (common_subexpressions.h).
  HashAggregate(std::vector<expr::Expr> keys, std::vector<expr::Expr> aggregates,
                std::shared_ptr<arrow::Schema> output_schema, int input_width);
  ~HashAggregate() override;

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  Status Prepare(ExecContext* ctx) override { return Status::OK(); }
  int64_t num_morsels() const override;
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

  static constexpr int64_t kParallelMergeGroups = 1 << 15;
  /// Groups per partition the merge of MergedKeys aims at. Smaller tables stay in the
  /// caches, but each partition then reads the workers' accumulators at a stride of
  /// the partition count: on db-benchmark q10 (10 M groups) 64 Ki groups per partition
  /// took 8.3 s of CPU, 512 Ki 7.6 s, 4 M 8.0 s.
  static constexpr int64_t kMergePartitionGroups = 1 << 19;
  /// A worker whose first kDecideRows rows point at more than kSegmentDistinctRatio
  /// times as many distinct groups (EstimateDistinct) sets its table aside for the
  /// merge then, and again every kSegmentGroups groups, starting a new one each time
  /// (MaybeFlush). Fewer groups stay in one table: db-benchmark's 1 M groups of 100
  /// M rows look unique over the first rows (650 K groups in 1 Mi rows), but their
  /// segments would hold 100 M groups in all, where one table holds 1 M.
  static constexpr int64_t kDecideRows = 1 << 20;
  static constexpr double kSegmentDistinctRatio = 4;
  static constexpr int64_t kSegmentGroups = 1 << 16;
  /// A worker making segments looks a sample of its batch's keys up in its earlier
  /// segments after 8, 16, 32, ... of them; when more than kSegmentSeenShare of the
  /// sample is there, its keys repeat at a distance of more than a segment (a cycle
  /// through 5 M keys over 30 M rows looks unique at first) and its table stays whole
  /// from then on (the 30 M rows: 2-5 s and 3.4 GiB in segments, 0.7 s and 0.5 GiB
  /// whole). Its own segments only: the other workers' may share key columns they are
  /// inserting into. With two workers a key seen before is in the sampling worker's
  /// segments about half the time, hence a quarter.
  static constexpr int64_t kSegmentSample = 1024;
  static constexpr double kSegmentSeenShare = 0.25;

  /// The number of distinct values that `groups` distinct values among `rows` rows
  /// drawn uniformly at random point at: the D with D * (1 - exp(-rows / D)) = groups.
  /// Infinity when no row repeated; `groups` when `rows` is 0. Order in the input
  /// (sorted keys) makes it an underestimate, which keeps a table whole.
  static double EstimateDistinct(int64_t groups, int64_t rows);
  static constexpr int kSpillPartitions = 256;
  static constexpr int kMaxSpillLevels = 4;
  /// Groups written to a run per state batch (each a copy of theirs).
  static constexpr int64_t kSpillChunkGroups = 1 << 17;
  /// A spilled partition's merge with fewer groups than this is never split further:
  /// it may exceed the limit by that much instead (another thread holds the budget).
  static constexpr int64_t kMinSplitGroups = 4096;

 private:
  Status MaybeFlush(ExecContext* ctx, LocalSinkState* local,
                    const arrow::ArrayVector& keys);
  /// The share of a sample of `keys` (a batch's key columns) found in the worker's
  /// handed-over segments other than its last (which the batch went into).
  Result<double> SeenInSegments(LocalSinkState* local, const arrow::ArrayVector& keys);
  // The worker's table and accumulators (and its reservation, `with_reservation`) as a
  // state of their own; the worker goes on with empty ones, whose key index shares the
  // taken one's column indexes when `share_columns` (KeyIndex::MakeEmpty).
  Result<std::unique_ptr<LocalSinkState>> TakeTable(ExecContext* ctx,
                                                    LocalSinkState* local,
                                                    bool with_reservation,
                                                    bool share_columns);
  // Writes the worker's table and the tables set aside so far to a run and gives the
  // worker an empty table. `ran_out`: this worker's reservation could not grow (the
  // other workers then follow).
  Status SpillLocal(ExecContext* ctx, LocalSinkState* local, bool ran_out);
  // Writes these states to one run (then drops them).
  Status WriteRun(ExecContext* ctx, std::vector<std::unique_ptr<LocalSinkState>> states);
  // The key columns of every group of `local`, cast to the key types.
  Result<arrow::ArrayVector> StateKeys(ExecContext* ctx, LocalSinkState* local);
  // The keys (from StateKeys) and the partial states of the groups in `order` (n ids of
  // `local`): the layout of spilled batches.
  Result<std::shared_ptr<arrow::RecordBatch>> StateBatch(ExecContext* ctx,
                                                         LocalSinkState* local,
                                                         const arrow::ArrayVector& keys,
                                                         const uint32_t* order,
                                                         int64_t n);
  // Merges partition `part` of `set` (split at depth `level`: 0 for spill_) into one
  // table and emits its groups (seq: the next batch number in the morsel); when that
  // partition does not fit, splits it one level deeper and merges the parts in turn.
  Status MergeSpilled(ExecContext* ctx, const SpillSet& set, int part, int level,
                      int64_t morsel, int64_t* seq, Emitter* out);
  // How many hash partitions Finalize merges in parallel (1: merge sequentially).
  int MergePartitions(ExecContext* ctx) const;
  Status MergeSequentially(ExecContext* ctx);
  Status MergeInParallel(ExecContext* ctx, int parts);
  // The parallel merge of tables whose keys MergedKeys could make integers: into
  // partitions of at most about kMergePartitionGroups groups (at most 256 partitions),
  // each merged from its groups alone. `scratch` accounts the merged keys and the orders.
  Status MergeMergedKeys(ExecContext* ctx, const MergedKeys& merged,
                         MemoryReservation* scratch);
  // Assemble of one partition merged in parallel into *out, accounted in
  // result_reservation_ under *mu (the merging threads share it).
  Status AssemblePart(ExecContext* ctx, LocalSinkState* merged, arrow::ArrayVector keys,
                      std::mutex* mu, std::shared_ptr<arrow::RecordBatch>* out);
  // The non-empty partition results, kept as the output.
  void KeepResults(std::vector<std::shared_ptr<arrow::RecordBatch>>* parts);
  // The result batch of one merged local state (keys, then aggregates); `keys`: the key
  // columns when the state's table does not hold them as they are.
  Result<std::shared_ptr<arrow::RecordBatch>> Assemble(ExecContext* ctx,
                                                       LocalSinkState* local,
                                                       arrow::ArrayVector keys = {});

  std::vector<expr::Expr> keys_;
  std::vector<expr::Expr> aggregates_;  // arguments over the input ++ shared_
  std::vector<expr::Expr> shared_;      // evaluated in order, appended to each batch
  std::shared_ptr<arrow::Schema> output_schema_;
  std::mutex mu_;
  std::vector<std::unique_ptr<LocalSinkState>> finished_;
  std::vector<int64_t> ended_;          // owners (AggregateLocal) whose FinishLocal ran
  std::atomic<int64_t> next_owner_{0};  // MakeLocal numbers its states
  std::vector<std::shared_ptr<arrow::RecordBatch>> results_;
  std::vector<int64_t>
      morsel_start_;  // first morsel of each result batch, then the total
  int64_t batch_rows_ = 65536;
  MemoryReservation result_reservation_;
  std::unique_ptr<SpillSet> spill_;       // made by the first spill (under mu_)
  std::atomic<int> spill_generation_{0};  // bumped by every worker's spill
  bool spilled_ = false;                  // after Finalize: the output comes from spill_
  std::string unspillable_;               // why the state cannot spill (empty: it can)
};

}  // namespace sluice::exec
