#include "sluice/exec/operators/hash_aggregate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "sluice/base/parallel.h"
#include "sluice/exec/key_index.h"
#include "sluice/exec/operators/aggregate_functions.h"
#include "sluice/exec/row_encoding.h"
#include "sluice/exec/spill.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/common_subexpressions.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

struct AggregateLocal : LocalSinkState {
  MemoryReservation reservation;
  std::unique_ptr<KeyIndex> table;  // null for a global aggregate (one group)
  std::vector<std::unique_ptr<GroupedAccumulator>> accumulators;
  std::vector<uint32_t> ids;
  int64_t rows = 0;  // consumed into this table
  // The worker (a number of its own for every MakeLocal) whose table this is or was: a
  // worker's tables may share parts of their key index (KeyIndex::MakeEmpty), so other
  // workers leave them alone until it ends.
  int64_t owner = 0;
  int spill_generation = 0;  // the aggregate's spill generation this table started in
  // Bytes of the segments this worker handed over since it last spilled: they wait in
  // finished_ holding the budget, and only this worker's spill writes them.
  int64_t handed_over = 0;
  // Segments handed over, and after how many the next SeenInSegments check comes.
  int64_t segments = 0;
  int64_t next_check = 8;
  // Whether the worker hands its table over every kSegmentGroups groups (decided once,
  // after kDecideRows rows).
  enum class Mode { kUndecided, kWhole, kSegments } mode = Mode::kUndecided;

  int64_t groups() const { return table ? table->size() : 1; }
  int64_t MemoryUsage() const {
    int64_t total =
        (table ? table->MemoryUsage() : 0) + static_cast<int64_t>(ids.capacity() * 4);
    for (const auto& a : accumulators) total += a->MemoryUsage();
    return total;
  }
};

}  // namespace

HashAggregate::HashAggregate(std::vector<expr::Expr> keys,
                             std::vector<expr::Expr> aggregates,
                             std::shared_ptr<arrow::Schema> output_schema,
                             int input_width)
    : PhysicalNode("HashAggregate"),
      keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      output_schema_(std::move(output_schema)) {
  // The arguments of all aggregates as one list, their shared parts taken out.
  std::vector<expr::Expr> args;
  for (const auto& a : aggregates_)
    args.insert(args.end(), a->args.begin(), a->args.end());
  shared_ = expr::ExtractCommonSubexpressions(&args, input_width);
  if (keys_.empty()) unspillable_ = "an aggregate without GROUP BY does not spill";
  for (const auto& a : aggregates_) {
    auto acc = MakeAccumulator(*a);
    if (unspillable_.empty() && acc.ok() && !(*acc)->PartialMerge()) {
      unspillable_ = (a->distinct ? a->name + "(DISTINCT ...)" : a->name + "()") +
                     " keeps every value and does not spill to disk";
    }
  }
  if (shared_.empty()) return;
  size_t next = 0;
  for (auto& a : aggregates_) {
    auto n = std::make_shared<expr::ExprNode>(*a);
    for (auto& arg : n->args) arg = args[next++];
    a = n;
  }
}

HashAggregate::~HashAggregate() = default;

Result<std::unique_ptr<LocalSinkState>> HashAggregate::MakeLocal(ExecContext* ctx,
                                                                 int worker) {
  auto local = std::make_unique<AggregateLocal>();
  local->reservation = MemoryReservation(ctx->budget(), name());
  local->owner = next_owner_++;
  // A worker that starts after a spill has nothing to follow it with.
  local->spill_generation = spill_generation_.load();
  if (!keys_.empty()) {
    std::vector<std::shared_ptr<arrow::DataType>> types;
    for (const auto& k : keys_) types.push_back(k->type);
    ARROW_ASSIGN_OR_RAISE(local->table, KeyIndex::Make(types));
  }
  for (const auto& a : aggregates_) {
    ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
    local->accumulators.push_back(std::move(acc));
  }
  return local;
}

Status HashAggregate::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  if (batch.data->num_rows() == 0) return Status::OK();
  std::shared_ptr<arrow::RecordBatch> widened = batch.data;
  for (const auto& e : shared_) {
    ARROW_ASSIGN_OR_RAISE(auto col, expr::EvaluateToArray(e, *widened));
    ARROW_ASSIGN_OR_RAISE(widened,
                          widened->AddColumn(widened->num_columns(),
                                             arrow::field("__shared", col->type()), col));
  }
  const auto& rb = *widened;
  const int64_t n = rb.num_rows();
  std::vector<std::shared_ptr<arrow::Array>> key_arrays;
  for (const auto& k : keys_) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, rb));
    key_arrays.push_back(std::move(arr));
  }
  local->ids.resize(n);
  if (keys_.empty()) {
    std::fill(local->ids.begin(), local->ids.end(), 0);
  } else {
    ARROW_RETURN_NOT_OK(
        local->table->Insert(key_arrays, KeyIndex::Nulls::kGroup, local->ids.data()));
  }
  const int64_t groups = local->groups();
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    auto& acc = local->accumulators[a];
    ARROW_RETURN_NOT_OK(acc->Resize(groups));
    ARROW_ASSIGN_OR_RAISE(auto arg, AggregateArgument(*aggregates_[a], rb));
    ARROW_RETURN_NOT_OK(acc->Update(arg, local->ids.data(), n));
  }
  int64_t usage = local->MemoryUsage();
  metrics().RecordPeak(usage);
  local->rows += n;
  Status grown = local->reservation.Resize(usage);
  if (!grown.ok()) {
    if (!grown.IsOutOfMemory()) return grown;
    if (!unspillable_.empty())
      return grown.WithMessage(grown.message(), "; ", unspillable_);
    if (usage + local->handed_over < OverLimitAllowance(*ctx)) {
      // Other operators hold the budget: spilling a table this small would only write
      // a run per batch. A worker may keep this much over the limit instead. Not when
      // its own handed-over segments hold the budget: those are what a spill frees.
      local->reservation.ResizeOverLimit(usage);
      return MaybeFlush(ctx, local, key_arrays);
    }
    return SpillLocal(ctx, local, /*ran_out=*/true);
  }
  if (local->spill_generation != spill_generation_.load(std::memory_order_relaxed)) {
    // Another worker ran out: free this table's memory too.
    return SpillLocal(ctx, local, /*ran_out=*/false);
  }
  return MaybeFlush(ctx, local, key_arrays);
}

Result<std::unique_ptr<LocalSinkState>> HashAggregate::TakeTable(
    ExecContext* ctx, LocalSinkState* local_base, bool with_reservation,
    bool share_columns) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  ARROW_ASSIGN_OR_RAISE(auto fresh, MakeLocal(ctx, 0));
  auto* next = static_cast<AggregateLocal*>(fresh.get());
  if (local->table && share_columns) {
    ARROW_ASSIGN_OR_RAISE(next->table, local->table->MakeEmpty());
    // A table of segments is handed over after the batch that takes it past
    // kSegmentGroups groups: room for twice that at once.
    if (local->mode == AggregateLocal::Mode::kSegments) {
      ARROW_RETURN_NOT_OK(next->table->Reserve(2 * kSegmentGroups, 0));
    }
  }
  auto taken = std::make_unique<AggregateLocal>();
  taken->owner = local->owner;
  if (with_reservation) {
    std::swap(taken->reservation, local->reservation);
    std::swap(local->reservation, next->reservation);
  }
  std::swap(taken->table, local->table);
  std::swap(taken->accumulators, local->accumulators);
  std::swap(local->table, next->table);
  std::swap(local->accumulators, next->accumulators);
  return taken;
}

Status HashAggregate::SpillLocal(ExecContext* ctx, LocalSinkState* local_base,
                                 bool ran_out) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  std::vector<std::unique_ptr<LocalSinkState>> states;
  {
    // This worker's tables, and those of workers that ended (the others are written
    // by their workers, who follow).
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::unique_ptr<LocalSinkState>> kept;
    for (auto& f : finished_) {
      const int64_t owner = static_cast<AggregateLocal*>(f.get())->owner;
      const bool ended = std::find(ended_.begin(), ended_.end(), owner) != ended_.end();
      (owner == local->owner || ended ? states : kept).push_back(std::move(f));
    }
    finished_ = std::move(kept);
  }
  // The worker keeps its reservation, which accounts the full table while it is
  // written, and shrinks it to the empty table's afterwards: giving it back first would
  // leave the empty table nothing to start with while the other workers still hold the
  // rest of the budget.
  // The next table starts with column indexes of its own: shared ones would keep every
  // value the worker has seen (and its budget) after this spill.
  ARROW_ASSIGN_OR_RAISE(auto full, TakeTable(ctx, local, /*with_reservation=*/false,
                                             /*share_columns=*/false));
  states.push_back(std::move(full));
  // Only running out asks the other workers to follow (answering would start a chain).
  // Asked before writing, so that workers running out meanwhile see the request.
  local->spill_generation = ran_out ? ++spill_generation_ : spill_generation_.load();
  ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(states)));
  local->rows = 0;
  local->handed_over = 0;
  local->reservation.ResizeOverLimit(local->MemoryUsage());
  return Status::OK();
}

Result<arrow::ArrayVector> HashAggregate::StateKeys(ExecContext* ctx,
                                                    LocalSinkState* local_base) {
  auto* l = static_cast<AggregateLocal*>(local_base);
  ARROW_ASSIGN_OR_RAISE(auto keys, l->table->KeyColumns(ctx->pool()));
  for (size_t k = 0; k < keys.size(); ++k) {
    if (!keys[k]->type()->Equals(*keys_[k]->type)) {
      ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(keys[k], keys_[k]->type));
      keys[k] = d.make_array();
    }
  }
  return keys;
}

Result<std::shared_ptr<arrow::RecordBatch>> HashAggregate::StateBatch(
    ExecContext* ctx, LocalSinkState* local_base, const arrow::ArrayVector& keys,
    const uint32_t* order, int64_t n) {
  auto* l = static_cast<AggregateLocal*>(local_base);
  arrow::ArrayVector columns;
  arrow::FieldVector fields;
  for (size_t k = 0; k < keys.size(); ++k) {
    ARROW_ASSIGN_OR_RAISE(
        auto col,
        TakeRows(keys[k], reinterpret_cast<const int32_t*>(order), n, ctx->pool()));
    fields.push_back(arrow::field("k" + std::to_string(k), col->type()));
    columns.push_back(std::move(col));
  }
  for (size_t a = 0; a < l->accumulators.size(); ++a) {
    ARROW_RETURN_NOT_OK(l->accumulators[a]->Resize(l->groups()));
    ARROW_ASSIGN_OR_RAISE(auto st, l->accumulators[a]->SaveState(order, n));
    fields.push_back(arrow::field("a" + std::to_string(a), st->type()));
    columns.push_back(std::move(st));
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), n, columns);
}

Status HashAggregate::WriteRun(ExecContext* ctx,
                               std::vector<std::unique_ptr<LocalSinkState>> states) {
  constexpr int parts = kSpillPartitions;
  std::unique_ptr<SpillRun> run;
  std::vector<uint8_t> part_of;
  std::vector<uint32_t> order;
  for (auto& state : states) {
    auto* l = static_cast<AggregateLocal*>(state.get());
    const int64_t groups = l->groups();
    if (groups == 0) continue;
    // The groups ordered by partition, to take every column once.
    part_of.resize(groups);
    l->table->Partitions(parts, part_of.data());
    auto start = OrderByPartition(part_of.data(), groups, parts, &order);
    ARROW_ASSIGN_OR_RAISE(auto keys, StateKeys(ctx, l));
    // In chunks: a copy of the whole table's state beside the table would double what
    // the worker holds just when the budget is full.
    for (int64_t off = 0; off < groups; off += kSpillChunkGroups) {
      const int64_t len = std::min(kSpillChunkGroups, groups - off);
      ARROW_ASSIGN_OR_RAISE(auto batch,
                            StateBatch(ctx, l, keys, order.data() + off, len));
      if (!run) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!spill_)
            spill_ = std::make_unique<SpillSet>(ctx, name(), batch->schema(), parts,
                                                &metrics().spilled_bytes);
        }
        ARROW_ASSIGN_OR_RAISE(run, spill_->NewRun());
      }
      // The partitions' ranges within this chunk.
      std::vector<int64_t> chunk_start(parts + 1);
      for (int p = 0; p <= parts; ++p) {
        chunk_start[p] = std::clamp(start[p], off, off + len) - off;
      }
      ARROW_RETURN_NOT_OK(WriteByPartition(run.get(), *batch, chunk_start));
    }
    keys.clear();
    state.reset();
  }
  if (!run) return Status::OK();
  ARROW_RETURN_NOT_OK(run->Close());
  ReturnFreedMemory(*ctx);
  return Status::OK();
}

Status HashAggregate::MergeSpilled(ExecContext* ctx, const SpillSet& set, int part,
                                   int level, int64_t morsel, int64_t* seq,
                                   Emitter* out) {
  ARROW_ASSIGN_OR_RAISE(auto fresh, MakeLocal(ctx, 0));
  auto* mine = static_cast<AggregateLocal*>(fresh.get());
  const size_t num_keys = keys_.size();
  std::vector<std::unique_ptr<GroupedAccumulator>> loaded;
  for (const auto& a : aggregates_) {
    ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
    loaded.push_back(std::move(acc));
  }
  // Once the partition is known not to fit: where its batches go instead.
  std::unique_ptr<SpillSet> deeper;
  std::unique_ptr<SpillRun> deeper_run;
  EncodedRows encoded;
  std::vector<uint8_t> part_of;
  std::vector<uint32_t> order;
  auto split = [&](const std::shared_ptr<arrow::RecordBatch>& batch) -> Status {
    const int64_t n = batch->num_rows();
    if (n == 0) return Status::OK();
    arrow::ArrayVector keys(batch->columns().begin(),
                            batch->columns().begin() + num_keys);
    ARROW_RETURN_NOT_OK(EncodeRows(keys, &encoded));
    part_of.resize(n);
    // Seeded by the depth: not the bits the merge table's home slots take from the
    // same hash (level 0 split by the key index's own partition function).
    for (int64_t i = 0; i < n; ++i)
      part_of[i] = PartitionOfHash(encoded.hashes[i], level);
    return WritePartitioned(deeper_run.get(), batch, part_of.data(), kSpillPartitions);
  };
  std::vector<uint32_t> ids;
  ARROW_RETURN_NOT_OK(
      set.ReadPartition(part, [&](std::shared_ptr<arrow::RecordBatch> batch) -> Status {
        if (ctx->cancelled()) return Status::Cancelled("cancelled");
        if (deeper) return split(batch);
        arrow::ArrayVector keys(batch->columns().begin(),
                                batch->columns().begin() + num_keys);
        ids.resize(batch->num_rows());
        ARROW_RETURN_NOT_OK(
            mine->table->Insert(keys, KeyIndex::Nulls::kGroup, ids.data()));
        for (size_t a = 0; a < loaded.size(); ++a) {
          ARROW_RETURN_NOT_OK(loaded[a]->LoadState(*batch->column(num_keys + a)));
          ARROW_RETURN_NOT_OK(mine->accumulators[a]->Resize(mine->groups()));
          ARROW_RETURN_NOT_OK(mine->accumulators[a]->Merge(loaded[a].get(), ids.data()));
        }
        int64_t usage = mine->MemoryUsage();
        metrics().RecordPeak(usage);
        Status grown = mine->reservation.Resize(usage);
        if (grown.ok()) return grown;
        if (!grown.IsOutOfMemory()) return grown;
        if (mine->groups() < kMinSplitGroups) {
          // So few groups cannot be what fills the budget: other threads' partitions
          // hold it, and splitting would only recurse down to empty tables. A table
          // this small goes on over the limit.
          mine->reservation.ResizeOverLimit(usage);
          return Status::OK();
        }
        if (level + 1 >= kMaxSpillLevels) {
          return grown.WithMessage(grown.message(), "; a spilled partition of ",
                                   mine->groups(), " groups does not fit even after ",
                                   level + 1, " partitionings");
        }
        // This partition does not fit: what it merged so far and the batches still to
        // come go one level deeper.
        deeper = std::make_unique<SpillSet>(ctx, name(), set.schema(), kSpillPartitions,
                                            &metrics().spilled_bytes);
        ARROW_ASSIGN_OR_RAISE(deeper_run, deeper->NewRun());
        order.resize(mine->groups());
        for (size_t g = 0; g < order.size(); ++g) order[g] = static_cast<uint32_t>(g);
        ARROW_ASSIGN_OR_RAISE(auto merged_keys, StateKeys(ctx, mine));
        ARROW_ASSIGN_OR_RAISE(auto merged, StateBatch(ctx, mine, merged_keys,
                                                      order.data(), mine->groups()));
        merged_keys.clear();
        fresh.reset();  // frees the table and gives its memory back
        mine = nullptr;
        return split(merged);
      }));
  loaded.clear();
  if (deeper) {
    ARROW_RETURN_NOT_OK(deeper_run->Close());
    for (int p = 0; p < kSpillPartitions; ++p) {
      ARROW_RETURN_NOT_OK(MergeSpilled(ctx, *deeper, p, level + 1, morsel, seq, out));
    }
    return Status::OK();
  }
  ARROW_ASSIGN_OR_RAISE(auto result, Assemble(ctx, mine));
  fresh.reset();
  ReturnFreedMemory(*ctx);
  for (int64_t off = 0; off < result->num_rows(); off += batch_rows_) {
    ARROW_RETURN_NOT_OK(
        out->Emit(Batch{result->Slice(off, batch_rows_), MorselSeq(morsel, (*seq)++)}));
  }
  return Status::OK();
}

double HashAggregate::EstimateDistinct(int64_t groups, int64_t rows) {
  if (rows <= 0 || groups <= 0) return static_cast<double>(std::max<int64_t>(groups, 0));
  if (groups >= rows) return std::numeric_limits<double>::infinity();
  const double g = static_cast<double>(groups), r = static_cast<double>(rows);
  // D * (1 - exp(-r / D)) grows with D from below g (at D = g) towards r: bisect on
  // log D. The upper end stands for "no repeats to speak of".
  double lo = std::log(g), hi = std::log(g) + 40;
  auto seen = [&](double log_d) {
    double d = std::exp(log_d);
    return d * -std::expm1(-r / d);
  };
  if (seen(hi) < g) return std::numeric_limits<double>::infinity();
  for (int i = 0; i < 60; ++i) {
    double mid = (lo + hi) / 2;
    (seen(mid) < g ? lo : hi) = mid;
  }
  return std::exp(hi);
}

Status HashAggregate::MaybeFlush(ExecContext* ctx, LocalSinkState* local_base,
                                 const arrow::ArrayVector& keys) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  using Mode = AggregateLocal::Mode;
  if (local->mode == Mode::kWhole || !local->table) return Status::OK();
  if (local->mode == Mode::kUndecided) {
    if (local->rows < kDecideRows) return Status::OK();
    // Hardly any row met a group it had seen: the table only grows, and a big table
    // misses the caches on every insert. Then hand tables to Finalize's parallel
    // merge, which meets their groups anyway, and go on with small ones (the
    // db-benchmark's 10 M groups of 10 M rows). A table with repeats (100 K groups
    // of 10 M rows) stays whole: its merge is small.
    bool segments = ctx->threads() >= 2 &&
                    EstimateDistinct(local->groups(), local->rows) >
                        kSegmentDistinctRatio * static_cast<double>(local->rows);
    for (const auto& a : local->accumulators) segments = segments && a->PartialMerge();
    local->mode = segments ? Mode::kSegments : Mode::kWhole;
    if (!segments) return Status::OK();
  } else if (local->groups() < kSegmentGroups) {
    return Status::OK();
  }
  ARROW_ASSIGN_OR_RAISE(auto segment, TakeTable(ctx, local, /*with_reservation=*/true,
                                                /*share_columns=*/true));
  auto* taken = static_cast<AggregateLocal*>(segment.get());
  taken->table->ReleaseInsertBuffers();
  ARROW_RETURN_NOT_OK(taken->reservation.Resize(taken->MemoryUsage()));
  local->handed_over += taken->reservation.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_.push_back(std::move(segment));
  }
  if (++local->segments < local->next_check) return Status::OK();
  local->next_check *= 2;
  ARROW_ASSIGN_OR_RAISE(double seen, SeenInSegments(local, keys));
  if (seen > kSegmentSeenShare) local->mode = Mode::kWhole;
  return Status::OK();
}

Result<double> HashAggregate::SeenInSegments(LocalSinkState* local_base,
                                             const arrow::ArrayVector& keys) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  std::vector<const KeyIndex*> segments;
  {
    // Pointers stay valid outside the lock: only this worker's spill and Finalize
    // free its segments.
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& f : finished_) {
      auto* l = static_cast<AggregateLocal*>(f.get());
      if (l->owner == local->owner && l->table) segments.push_back(l->table.get());
    }
  }
  if (!segments.empty()) segments.pop_back();  // the batch's own
  const int64_t n = std::min<int64_t>(keys[0]->length(), kSegmentSample);
  if (segments.empty() || n == 0) return 0.0;
  arrow::ArrayVector sample;
  for (const auto& k : keys) sample.push_back(k->Slice(0, n));
  std::vector<uint8_t> seen(n, 0);
  std::vector<int64_t> ids(n);
  ProbeScratch scratch;
  for (const KeyIndex* segment : segments) {
    ARROW_RETURN_NOT_OK(segment->Find(sample, &scratch, ids.data()));
    for (int64_t i = 0; i < n; ++i) seen[i] |= ids[i] >= 0;
  }
  return static_cast<double>(std::count(seen.begin(), seen.end(), 1)) /
         static_cast<double>(n);
}

Status HashAggregate::FinishLocal(ExecContext* ctx,
                                  std::unique_ptr<LocalSinkState> local) {
  std::lock_guard<std::mutex> lock(mu_);
  ended_.push_back(static_cast<AggregateLocal*>(local.get())->owner);
  finished_.push_back(std::move(local));
  return Status::OK();
}

Result<std::shared_ptr<arrow::RecordBatch>> HashAggregate::Assemble(
    ExecContext* ctx, LocalSinkState* local_base, arrow::ArrayVector keys) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  const int64_t groups = local->groups();
  std::vector<std::shared_ptr<arrow::Array>> columns = std::move(keys);
  if (local->table && columns.empty()) {
    ARROW_ASSIGN_OR_RAISE(columns, local->table->KeyColumns(ctx->pool()));
  }
  for (auto& acc : local->accumulators) {
    ARROW_RETURN_NOT_OK(acc->Resize(groups));
    ARROW_ASSIGN_OR_RAISE(auto arr, acc->Finalize());
    columns.push_back(std::move(arr));
  }
  // Result columns may come out with a slightly different type than planned (e.g.
  // large vs. plain strings); cast to the planned schema.
  for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
    const auto& want = output_schema_->field(i)->type();
    if (!columns[i]->type()->Equals(*want)) {
      ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(columns[i], want));
      columns[i] = d.make_array();
    }
  }
  return arrow::RecordBatch::Make(output_schema_, groups, columns);
}

int HashAggregate::MergePartitions(ExecContext* ctx) const {
  if (keys_.empty() || finished_.size() < 2 || ctx->threads() < 2) return 1;
  int64_t groups = 0;
  for (const auto& l : finished_)
    groups += static_cast<AggregateLocal*>(l.get())->groups();
  if (groups < kParallelMergeGroups) return 1;
  for (const auto& a : static_cast<AggregateLocal*>(finished_[0].get())->accumulators) {
    if (!a->PartialMerge()) return 1;
  }
  // Tables of directly indexed keys merge at a load per key: one pass over them beats
  // partitions that each look at every key and hash their share (TPC-H Q18's 1.5 M
  // order keys: 0.26 -> s of aggregate time).
  bool direct = true;
  for (const auto& l : finished_) {
    direct = direct && static_cast<AggregateLocal*>(l.get())->table->DirectlyIndexed();
  }
  if (direct) return 1;
  int parts = 1;
  while (parts < 2 * ctx->threads() && parts < 256) parts *= 2;
  return parts;
}

Status HashAggregate::MergeSequentially(ExecContext* ctx) {
  auto* global = static_cast<AggregateLocal*>(finished_[0].get());
  for (size_t w = 1; w < finished_.size(); ++w) {
    auto* other = static_cast<AggregateLocal*>(finished_[w].get());
    std::vector<uint32_t> mapping(other->groups(), 0);
    if (global->table) {
      ARROW_RETURN_NOT_OK(global->table->InsertAll(*other->table, mapping.data()));
    }
    for (size_t a = 0; a < aggregates_.size(); ++a) {
      ARROW_RETURN_NOT_OK(global->accumulators[a]->Resize(global->groups()));
      ARROW_RETURN_NOT_OK(other->accumulators[a]->Resize(other->groups()));
      ARROW_RETURN_NOT_OK(
          global->accumulators[a]->Merge(other->accumulators[a].get(), mapping.data()));
    }
    ARROW_RETURN_NOT_OK(global->reservation.Resize(global->MemoryUsage()));
    finished_[w].reset();
  }
  ARROW_ASSIGN_OR_RAISE(auto batch, Assemble(ctx, global));
  ARROW_RETURN_NOT_OK(result_reservation_.Grow(BatchMemory(*batch)));
  results_.push_back(std::move(batch));
  return Status::OK();
}

Status HashAggregate::MergeInParallel(ExecContext* ctx, int parts) {
  static_assert(kNoGroup == KeyIndex::kSkipped, "skipped keys are groups not merged");
  std::vector<AggregateLocal*> locals;
  for (const auto& l : finished_) locals.push_back(static_cast<AggregateLocal*>(l.get()));
  // Every worker's accumulators hold all its groups before several partitions read them.
  for (auto* l : locals) {
    for (auto& a : l->accumulators) ARROW_RETURN_NOT_OK(a->Resize(l->groups()));
  }
  {
    std::vector<const KeyIndex*> tables;
    for (auto* l : locals) tables.push_back(l->table.get());
    ARROW_ASSIGN_OR_RAISE(auto merged,
                          MergedKeys::Make(tables, ctx->threads(), ctx->pool()));
    if (merged) {
      MemoryReservation scratch(ctx->budget(), name() + " merge");
      Status fits = scratch.Resize(merged->MemoryUsage());
      if (fits.ok()) return MergeMergedKeys(ctx, *merged, &scratch);
      if (!fits.IsOutOfMemory()) return fits;
      // Too little room for the merged keys: the partitioned merge below needs less.
    }
  }
  const int threads = std::min(ctx->threads(), parts);
  std::vector<std::vector<uint8_t>> part_of(locals.size());
  ARROW_RETURN_NOT_OK(RunWorkers(threads, [&](int t) -> Status {
    for (size_t i = t; i < locals.size(); i += threads) {
      part_of[i].resize(locals[i]->groups());
      locals[i]->table->Partitions(parts, part_of[i].data());
    }
    return Status::OK();
  }));
  // Keys per partition (an upper bound: a key several workers saw counts for each),
  // so that each partition's table is sized once.
  std::vector<int64_t> part_keys(parts, 0);
  int64_t all_keys = 0, all_bytes = 0;
  for (size_t i = 0; i < locals.size(); ++i) {
    for (uint8_t p : part_of[i]) part_keys[p]++;
    all_keys += locals[i]->groups();
    all_bytes += locals[i]->table->KeyBytes();
  }
  std::vector<std::shared_ptr<arrow::RecordBatch>> out(parts);
  std::atomic<int> next{0};
  std::mutex reservation_mu;
  ARROW_RETURN_NOT_OK(RunWorkers(threads, [&](int) -> Status {
    std::vector<uint32_t> mapping;
    for (int p = next++; p < parts; p = next++) {
      ARROW_ASSIGN_OR_RAISE(auto fresh, MakeLocal(ctx, 0));
      auto* mine = static_cast<AggregateLocal*>(fresh.get());
      const double share =
          all_keys > 0 ? static_cast<double>(part_keys[p]) / all_keys : 0;
      ARROW_RETURN_NOT_OK(mine->table->Reserve(
          part_keys[p], static_cast<int64_t>(share * static_cast<double>(all_bytes))));
      for (size_t i = 0; i < locals.size(); ++i) {
        AggregateLocal* other = locals[i];
        mapping.assign(other->groups(), 0);
        ARROW_RETURN_NOT_OK(mine->table->InsertAll(
            *other->table, mapping.data(), part_of[i].data(), static_cast<uint8_t>(p)));
        for (size_t a = 0; a < aggregates_.size(); ++a) {
          ARROW_RETURN_NOT_OK(mine->accumulators[a]->Resize(mine->groups()));
          ARROW_RETURN_NOT_OK(
              mine->accumulators[a]->Merge(other->accumulators[a].get(), mapping.data()));
        }
        ARROW_RETURN_NOT_OK(mine->reservation.Resize(mine->MemoryUsage()));
      }
      ARROW_RETURN_NOT_OK(AssemblePart(ctx, mine, {}, &reservation_mu, &out[p]));
    }
    return Status::OK();
  }));
  KeepResults(&out);
  return Status::OK();
}

Status HashAggregate::MergeMergedKeys(ExecContext* ctx, const MergedKeys& merged,
                                      MemoryReservation* scratch) {
  std::vector<AggregateLocal*> locals;
  int64_t total = 0;
  for (size_t i = 0; i < finished_.size(); ++i) {
    locals.push_back(static_cast<AggregateLocal*>(finished_[i].get()));
    total += static_cast<int64_t>(merged.keys(i).size());
  }
  // The tables' keys are in `merged` now (and their column values): free the tables
  // before the partitions' tables grow (at db-benchmark q10 1e8, 1,500 tables of 100 M
  // keys in all, about 3 GB). Only the accumulators are read from here on.
  for (auto* l : locals) {
    l->table.reset();
    ARROW_RETURN_NOT_OK(l->reservation.Resize(l->MemoryUsage()));
  }
  // Partitions of at most about kMergePartitionGroups groups.
  int parts = 1;
  while (parts < 2 * ctx->threads() && parts < 256) parts *= 2;
  while (parts < 256 && total / parts > kMergePartitionGroups) parts *= 2;
  const int drop = 8 - __builtin_ctz(static_cast<unsigned>(parts));
  const int threads = std::min(ctx->threads(), parts);
  // Each table's groups ordered by partition: partition p's are order[i][start[i][p]..].
  std::vector<std::vector<uint32_t>> order(locals.size());
  std::vector<std::vector<int64_t>> start(locals.size());
  ARROW_RETURN_NOT_OK(scratch->Resize(merged.MemoryUsage() + total * 5));
  std::atomic<size_t> next_table{0};
  ARROW_RETURN_NOT_OK(RunWorkers(threads, [&](int) -> Status {
    std::vector<uint8_t> part_of;
    for (size_t i = next_table++; i < locals.size(); i = next_table++) {
      const auto& bytes = merged.partitions(i);
      part_of.resize(bytes.size());
      for (size_t g = 0; g < bytes.size(); ++g) part_of[g] = bytes[g] >> drop;
      start[i] = OrderByPartition(part_of.data(), static_cast<int64_t>(part_of.size()),
                                  parts, &order[i]);
    }
    return Status::OK();
  }));
  std::vector<std::shared_ptr<arrow::RecordBatch>> out(parts);
  std::atomic<int> next{0};
  std::mutex reservation_mu;
  ARROW_RETURN_NOT_OK(RunWorkers(threads, [&](int) -> Status {
    std::vector<int64_t> keys, high;
    std::vector<uint32_t> ids;
    const bool wide = merged.wide();
    for (int p = next++; p < parts; p = next++) {
      ARROW_ASSIGN_OR_RAISE(auto fresh, MakeLocal(ctx, 0));
      auto* mine = static_cast<AggregateLocal*>(fresh.get());
      if (wide) {
        mine->table = KeyIndex::MakeTwoWords();
      } else {
        ARROW_ASSIGN_OR_RAISE(mine->table, KeyIndex::Make({arrow::int64()}));
      }
      int64_t groups = 0;
      for (size_t i = 0; i < locals.size(); ++i) groups += start[i][p + 1] - start[i][p];
      ARROW_RETURN_NOT_OK(mine->table->Reserve(groups, 0));
      for (size_t i = 0; i < locals.size(); ++i) {
        const int64_t begin = start[i][p], n = start[i][p + 1] - begin;
        if (n == 0) continue;
        const uint32_t* from = order[i].data() + begin;
        const std::vector<int64_t>& all = merged.keys(i);
        keys.resize(n);
        for (int64_t j = 0; j < n; ++j) keys[j] = all[from[j]];
        ids.resize(n);
        arrow::ArrayVector columns = {std::make_shared<arrow::Int64Array>(
            n, arrow::Buffer::Wrap(keys.data(), static_cast<size_t>(n)))};
        if (wide) {
          const std::vector<int64_t>& all_high = merged.high_keys(i);
          high.resize(n);
          for (int64_t j = 0; j < n; ++j) high[j] = all_high[from[j]];
          columns.push_back(std::make_shared<arrow::Int64Array>(
              n, arrow::Buffer::Wrap(high.data(), static_cast<size_t>(n))));
        }
        ARROW_RETURN_NOT_OK(
            mine->table->Insert(columns, KeyIndex::Nulls::kGroup, ids.data()));
        for (size_t a = 0; a < aggregates_.size(); ++a) {
          ARROW_RETURN_NOT_OK(mine->accumulators[a]->Resize(mine->groups()));
          ARROW_RETURN_NOT_OK(mine->accumulators[a]->MergeSome(
              locals[i]->accumulators[a].get(), from, ids.data(), n));
        }
        ARROW_RETURN_NOT_OK(mine->reservation.Resize(mine->MemoryUsage()));
      }
      // The partition's groups' merged keys, by id, back into key columns.
      ARROW_ASSIGN_OR_RAISE(auto merged_keys, mine->table->KeyColumns(ctx->pool()));
      ARROW_ASSIGN_OR_RAISE(
          auto key_columns,
          merged.KeyColumns(
              merged_keys[0]->data()->GetValues<int64_t>(1),
              wide ? merged_keys[1]->data()->GetValues<int64_t>(1) : nullptr,
              mine->groups(), ctx->pool()));
      ARROW_RETURN_NOT_OK(
          AssemblePart(ctx, mine, std::move(key_columns), &reservation_mu, &out[p]));
    }
    return Status::OK();
  }));
  KeepResults(&out);
  return Status::OK();
}

Status HashAggregate::AssemblePart(ExecContext* ctx, LocalSinkState* merged,
                                   arrow::ArrayVector keys, std::mutex* mu,
                                   std::shared_ptr<arrow::RecordBatch>* out) {
  ARROW_ASSIGN_OR_RAISE(*out, Assemble(ctx, merged, std::move(keys)));
  std::lock_guard<std::mutex> lock(*mu);  // result_reservation_ is shared
  return result_reservation_.Grow(BatchMemory(**out));
}

void HashAggregate::KeepResults(std::vector<std::shared_ptr<arrow::RecordBatch>>* parts) {
  for (auto& b : *parts) {
    if (b->num_rows() > 0) results_.push_back(std::move(b));
  }
}

Status HashAggregate::Finalize(ExecContext* ctx) {
  batch_rows_ = ctx->batch_rows();
  results_.clear();
  result_reservation_ = MemoryReservation(ctx->budget(), name() + " result");
  if (finished_.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto l, MakeLocal(ctx, 0));
    finished_.push_back(std::move(l));
  }
  bool spill = spill_ != nullptr;
  if (!spill && unspillable_.empty() && finished_.size() > 1) {
    // Merging in memory makes tables as large as the workers' together while theirs
    // are still held: when the budget cannot take that, spill instead.
    int64_t states = 0;
    for (const auto& l : finished_)
      states += static_cast<AggregateLocal*>(l.get())->MemoryUsage();
    spill = ctx->budget()->limit() > 0 &&
            ctx->budget()->used() + states > ctx->budget()->limit();
  }
  if (spill) {
    // Part of the groups is on disk: the rest follows, so that each partition is merged
    // from its runs alone, one partition at a time (Produce).
    std::vector<std::unique_ptr<LocalSinkState>> states = std::move(finished_);
    finished_.clear();
    ARROW_RETURN_NOT_OK(WriteRun(ctx, std::move(states)));
    spilled_ = true;
    return Status::OK();
  }
  const int parts = MergePartitions(ctx);
  if (parts > 1) {
    ARROW_RETURN_NOT_OK(MergeInParallel(ctx, parts));
  } else {
    ARROW_RETURN_NOT_OK(MergeSequentially(ctx));
  }
  finished_.clear();
  ended_.clear();
  morsel_start_.assign(1, 0);
  for (const auto& b : results_) {
    morsel_start_.push_back(morsel_start_.back() +
                            (b->num_rows() + batch_rows_ - 1) / batch_rows_);
  }
  return Status::OK();
}

int64_t HashAggregate::num_morsels() const {
  if (spilled_) return spill_->parts();
  return morsel_start_.empty() ? 0 : morsel_start_.back();
}

Status HashAggregate::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  if (spilled_) {
    int64_t seq = 0;
    return MergeSpilled(ctx, *spill_, static_cast<int>(morsel), 0, morsel, &seq, out);
  }
  // The result batch holding this morsel, and the morsel's place in it.
  size_t b = std::upper_bound(morsel_start_.begin(), morsel_start_.end(), morsel) -
             morsel_start_.begin() - 1;
  int64_t offset = (morsel - morsel_start_[b]) * batch_rows_;
  return out->Emit(Batch{results_[b]->Slice(offset, batch_rows_), MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
