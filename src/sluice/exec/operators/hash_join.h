#pragma once
// Hash join: the build side (right input) is a pipeline breaker (HashJoinBuild, a
// Sink); the probe side streams through HashJoinProbe in the left input's pipeline.
//
// Equality on the key columns (rows with a NULL key never match), plus an optional
// extra condition over the joined row. Output columns: left then right (semi/anti:
// left only). Inner, left, right, full, semi and anti joins. Right/full joins mark
// matched build rows and emit the unmatched ones after the probe pipeline finishes
// (DrainSource). With no key columns this is a nested-loop (cross) join.
//
// A semi or anti join may build on its preserved (left) side instead (`preserve_build`,
// chosen when that side is the smaller one): the other side probes and only marks the
// build rows it matches; once every probe has finished, DrainSource emits the matched
// (semi) or unmatched (anti) build rows. The probe rows are the candidate row's first
// columns then, so the condition is bound to probe ++ build.
// Memory: the build side is accounted under "HashJoin build".
// Spilling (docs/design/spilling.md): when the build side with keys does not fit, it is
// split by its keys' hash into kJoinPartitions partitions on disk; the probe side's rows
// are then split the same way instead of probed, and once the probe input has ended,
// DrainSource joins the partitions one at a time (one morsel each), each with the
// in-memory join. A build partition that alone does not fit is split again, both
// sides, by another hash seed (3 levels: 64^3 times the limit). A join without keys (a
// cross join) does not spill.
#include <atomic>
#include <mutex>
#include <shared_mutex>

#include "sluice/base/huge_pages.h"
#include "sluice/exec/batch_collector.h"
#include "sluice/exec/key_index.h"
#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::exec {

class SpillSet;
class SpillRun;

class HashJoinBuild : public Sink {
 public:
  /// `may_spill`: false for the build of one spilled partition (which must fit).
  HashJoinBuild(std::vector<expr::Expr> keys, std::shared_ptr<arrow::Schema> schema,
                bool may_spill = true);
  ~HashJoinBuild() override;

  static constexpr int kJoinPartitions = 64;
  /// A spilled partition's build with fewer rows than this is not split further when
  /// the budget is full: it goes over the limit by that much instead.
  static constexpr int64_t kMinSplitRows = 4096;

  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override;

  // After Finalize (read-only, shared by probe workers):
  const std::shared_ptr<arrow::RecordBatch>& rows() const { return rows_; }
  /// First build row of key `id` (-1 if none); next_row(r): the following row.
  int64_t first_row(int64_t key_id) const { return first_[key_id]; }
  int64_t next_row(int64_t row) const { return next_[row]; }
  /// Key ids of every probe row (-1: no such key, or a NULL key). Thread-safe.
  Status FindKeys(const arrow::ArrayVector& keys, ProbeScratch* scratch,
                  int64_t* ids) const {
    return table_->Find(keys, scratch, ids);
  }
  bool has_keys() const { return !keys_.empty(); }
  /// After Finalize: whether the rows went to disk (then rows() is not set and the
  /// probe side joins partition by partition).
  bool spilled() const { return spilled_; }
  const SpillSet& spill() const { return *spill_; }
  /// Removes the spill files (once every partition has been joined).
  void DropSpill();
  const std::vector<expr::Expr>& keys() const { return keys_; }
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  std::vector<std::atomic<uint8_t>>& matched() { return matched_; }
  /// Per key id: set once every build row of that key is marked matched.
  std::vector<std::atomic<uint8_t>>& key_done() { return key_done_; }

 private:
  std::vector<expr::Expr> keys_;
  std::shared_ptr<arrow::Schema> schema_;
  BatchCollector collected_;
  std::shared_ptr<arrow::RecordBatch> rows_;
  std::unique_ptr<KeyIndex> table_;  // null without key columns (cross join)
  HugeVector<int64_t> first_;        // large and filled at once: huge-page backed
  HugeVector<int64_t> next_;
  std::vector<std::atomic<uint8_t>> matched_;
  std::vector<std::atomic<uint8_t>> key_done_;
  // The build's spill set, made by the first caller (thread-safe).
  Result<SpillSet*> Spill(ExecContext* ctx);
  // Writes a worker's buffered batches to its run, split by partition.
  Status SpillBuffered(ExecContext* ctx, LocalSinkState* local);
  // Writes `rest` to disk in one run and marks the build spilled.
  Status SpillRest(ExecContext* ctx,
                   const std::vector<std::shared_ptr<arrow::RecordBatch>>& rest);
  bool may_spill_;
  std::atomic<bool> spilling_{false};  // set by the first worker that ran out
  std::mutex spill_mu_;
  std::unique_ptr<SpillSet> spill_;  // made by the first spill (under spill_mu_)
  bool spilled_ = false;
};

/// Writes the rows of `batch` to `run` split by the hash of `keys` (evaluated on the
/// batch) into HashJoinBuild::kJoinPartitions partitions, the same partition for equal
/// keys on both sides of a join whatever their integer width; each split `level` (0:
/// the first) partitions by a hash seeded of its own.
Status WriteJoinPartitions(SpillRun* run, const std::vector<expr::Expr>& keys,
                           const std::shared_ptr<arrow::RecordBatch>& batch, int level);

class HashJoinProbe;

/// The probe-side rows whose keys the build side holds (sideways information passing):
/// for a source that reads the probe's key columns first and its other columns only at
/// those rows (a Parquet scan under a selective join: TPC-H Q9's 6 M line items meet
/// the 10 K green parts, Q17's the 204 parts of one brand). Exact: the build's own key
/// index decides. Only for joins that drop probe rows without a match (inner, semi,
/// right); a build that spilled keeps every row (its index is on disk).
class ProbeKeyFilter {
 public:
  explicit ProbeKeyFilter(std::shared_ptr<HashJoinProbe> probe);
  /// The probe input's columns the keys read, ascending.
  const std::vector<int>& columns() const { return columns_; }
  /// The rows of `batch` (the probe input's columns; those not in columns() may be
  /// placeholders) whose keys are in the build side, ascending: rows[0, n) restricted,
  /// or every row when `rows` is null. Thread-safe once the build is finished; each
  /// caller brings its scratch.
  Status Select(const std::shared_ptr<arrow::RecordBatch>& batch, const int32_t* rows,
                int64_t n, ProbeScratch* scratch, std::vector<int32_t>* out) const;
  /// The join (its metrics take the time of Select).
  HashJoinProbe& probe() const { return *probe_; }

 private:
  std::shared_ptr<HashJoinProbe> probe_;
  std::vector<int> columns_;
};

class HashJoinProbe : public OperatorFactory,
                      public std::enable_shared_from_this<HashJoinProbe> {
 public:
  HashJoinProbe(std::shared_ptr<HashJoinBuild> build, plan::JoinType type,
                std::vector<expr::Expr> probe_keys, expr::Expr condition,
                std::shared_ptr<arrow::Schema> left_schema,
                std::shared_ptr<arrow::Schema> output_schema,
                bool preserve_build = false);
  ~HashJoinProbe() override;
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;
  Result<std::shared_ptr<Source>> DrainSource() override;
  /// Unmatched build rows, or a spilled build's partitions, may come out at the end.
  bool MayDrain() const override { return true; }

  const std::shared_ptr<HashJoinBuild>& build() const { return build_; }
  /// A filter of the probe rows by the build's keys, for the source of the probe's
  /// pipeline (ProbeKeyFilter); null for joins that keep probe rows without a match.
  std::shared_ptr<ProbeKeyFilter> KeyFilter();
  plan::JoinType type() const { return type_; }
  const std::vector<expr::Expr>& probe_keys() const { return probe_keys_; }
  const expr::Expr& condition() const { return condition_; }
  const std::shared_ptr<arrow::Schema>& left_schema() const { return left_schema_; }
  const std::shared_ptr<arrow::Schema>& output_schema() const { return output_schema_; }
  bool preserve_build() const { return preserve_build_; }
  /// Once the build spilled: where probe workers put their rows (made by the first).
  Result<SpillSet*> ProbeSpill(ExecContext* ctx,
                               const std::shared_ptr<arrow::Schema>& schema);
  /// Joins spilled partition `part`: its build rows into a table, its probe rows
  /// through it, then (right/full, preserved build) its build rows the probe decided.
  /// Thread-safe for different partitions.
  Status JoinPartition(ExecContext* ctx, int part, Emitter* out);

 private:
  // Joins partition `part` of `builds` with the same partition of `probes` (null: no
  // probe rows), split at depth `level`; a build partition that does not fit is split
  // again (up to kMaxJoinLevels levels) and its parts joined in turn.
  Status JoinSpilled(ExecContext* ctx, const SpillSet& builds, const SpillSet* probes,
                     int part, int level, Emitter* out);
  static constexpr int kMaxJoinLevels = 3;
  std::shared_mutex partition_mu_;  // shared while joining; alone for a retry
  std::atomic<int> partitions_done_{0};
  std::mutex probe_spill_mu_;
  std::unique_ptr<SpillSet> probe_spill_;
  std::shared_ptr<HashJoinBuild> build_;
  plan::JoinType type_;
  std::vector<expr::Expr> probe_keys_;
  expr::Expr condition_;
  std::shared_ptr<arrow::Schema> left_schema_;
  std::shared_ptr<arrow::Schema> output_schema_;
  bool preserve_build_;
};

}  // namespace sluice::exec
