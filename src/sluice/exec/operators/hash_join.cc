#include "sluice/exec/operators/hash_join.h"

#include <arrow/array/builder_primitive.h>
#include <arrow/array/concatenate.h>
#include <arrow/compute/api.h>
#include <arrow/util/bit_util.h>

#include <atomic>

#include "sluice/base/parallel.h"
#include "sluice/exec/operators/filter_project.h"
#include "sluice/exec/row_encoding.h"
#include "sluice/exec/scannable.h"
#include "sluice/exec/spill.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace cp = arrow::compute;
using plan::JoinType;

namespace {
Result<std::vector<std::shared_ptr<arrow::Array>>> EvaluateKeys(
    const std::vector<expr::Expr>& keys, const arrow::RecordBatch& batch) {
  std::vector<std::shared_ptr<arrow::Array>> out;
  for (const auto& k : keys) {
    ARROW_ASSIGN_OR_RAISE(auto a, expr::EvaluateToArray(k, batch));
    out.push_back(std::move(a));
  }
  return out;
}
}  // namespace

namespace {

// A build worker's buffer, and its run once the build spills.
struct BuildLocal : CollectedBatches {
  std::unique_ptr<SpillRun> run;
};

// Keys of one kind hash alike on both sides of a join. The planner gives both sides'
// keys one type already; integers are widened to int64 and floats to double anyway, so
// that the partitions agree whatever a side's width. (The row encoding treats every
// string and binary layout alike.)
Result<std::shared_ptr<arrow::Array>> CanonicalKey(std::shared_ptr<arrow::Array> a) {
  const auto& t = *a->type();
  std::shared_ptr<arrow::DataType> to;
  if (arrow::is_integer(t.id())) {
    to = arrow::int64();
  } else if (t.id() == arrow::Type::FLOAT) {
    to = arrow::float64();
  }
  if (!to || t.Equals(*to)) return a;
  ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(a, to, cp::CastOptions::Unsafe()));
  return d.make_array();
}

}  // namespace

Status WriteJoinPartitions(SpillRun* run, const std::vector<expr::Expr>& keys,
                           const std::shared_ptr<arrow::RecordBatch>& batch, int level) {
  const int64_t n = batch->num_rows();
  if (n == 0) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto arrays, EvaluateKeys(keys, *batch));
  for (auto& a : arrays) {
    ARROW_ASSIGN_OR_RAISE(a, CanonicalKey(std::move(a)));
  }
  EncodedRows encoded;
  ARROW_RETURN_NOT_OK(EncodeRows(arrays, &encoded));
  std::vector<uint8_t> part_of(n);
  const int seed = 7 + level;  // not the aggregate's seeds
  for (int64_t i = 0; i < n; ++i) {
    // A key with a NULL never matches, on either side, so its row may go to any
    // partition: spread by position, not all into the NULL key's one partition.
    const uint64_t h = encoded.any_null[i] ? static_cast<uint64_t>(i) : encoded.hashes[i];
    part_of[i] = PartitionOfHash(h, seed) & (HashJoinBuild::kJoinPartitions - 1);
  }
  return WritePartitioned(run, batch, part_of.data(), HashJoinBuild::kJoinPartitions);
}

HashJoinBuild::HashJoinBuild(std::vector<expr::Expr> keys,
                             std::shared_ptr<arrow::Schema> schema, bool may_spill)
    : PhysicalNode("HashJoin build"),
      keys_(std::move(keys)),
      schema_(std::move(schema)),
      collected_("HashJoin build"),
      may_spill_(may_spill) {}

HashJoinBuild::~HashJoinBuild() = default;

void HashJoinBuild::DropSpill() { spill_.reset(); }

Result<std::unique_ptr<LocalSinkState>> HashJoinBuild::MakeLocal(ExecContext* ctx, int) {
  auto local = std::make_unique<BuildLocal>();
  local->reservation = MemoryReservation(ctx->budget(), "HashJoin build");
  return local;
}

Status HashJoinBuild::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<BuildLocal*>(local_base);
  if (spilling_.load(std::memory_order_relaxed)) {
    // Another worker ran out: this one's buffer and batches go to disk too.
    local->batches.push_back(std::move(batch));
    return SpillBuffered(ctx, local);
  }
  Status added = local->Add(batch);
  if (added.ok() || !added.IsOutOfMemory()) return added;
  if (!may_spill_) {
    if (local->rows + batch.data->num_rows() < kMinSplitRows) {
      // So few rows cannot be what fills the budget (other operators hold it), and
      // splitting would only recurse into empty partitions: over the limit instead.
      local->reservation.ResizeOverLimit(local->reservation.size() +
                                         BatchMemory(*batch.data));
      local->rows += batch.data->num_rows();
      local->batches.push_back(std::move(batch));
      return Status::OK();
    }
    return added;
  }
  if (keys_.empty()) {
    return added.WithMessage(added.message(),
                             "; a join without equal keys does not spill");
  }
  spilling_.store(true);
  local->batches.push_back(std::move(batch));
  return SpillBuffered(ctx, local);
}

Result<SpillSet*> HashJoinBuild::Spill(ExecContext* ctx) {
  std::lock_guard<std::mutex> lock(spill_mu_);
  if (!spill_) {
    spill_ = std::make_unique<SpillSet>(ctx, name(), schema_, kJoinPartitions,
                                        &metrics().spilled_bytes);
  }
  return spill_.get();
}

Status HashJoinBuild::SpillBuffered(ExecContext* ctx, LocalSinkState* local_base) {
  auto* local = static_cast<BuildLocal*>(local_base);
  if (local->batches.empty()) return Status::OK();
  if (!local->run) {
    ARROW_ASSIGN_OR_RAISE(auto* set, Spill(ctx));
    ARROW_ASSIGN_OR_RAISE(local->run, set->NewRun());
  }
  for (const auto& b : local->batches) {
    ARROW_RETURN_NOT_OK(WriteJoinPartitions(local->run.get(), keys_, b.data, 0));
  }
  return local->Reset({});
}

Status HashJoinBuild::FinishLocal(ExecContext* ctx,
                                  std::unique_ptr<LocalSinkState> local_base) {
  auto* local = static_cast<BuildLocal*>(local_base.get());
  if (spilling_.load()) {
    ARROW_RETURN_NOT_OK(SpillBuffered(ctx, local));
  }
  if (local->run) {
    ARROW_RETURN_NOT_OK(local->run->Close());
    local->run.reset();
  }
  return collected_.Merge(ctx, std::move(local_base));
}

Status HashJoinBuild::SpillRest(
    ExecContext* ctx, const std::vector<std::shared_ptr<arrow::RecordBatch>>& rest) {
  ARROW_ASSIGN_OR_RAISE(auto* set, Spill(ctx));  // made even when empty: spill() reads it
  if (!rest.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto run, set->NewRun());
    for (const auto& b : rest) {
      ARROW_RETURN_NOT_OK(WriteJoinPartitions(run.get(), keys_, b, 0));
    }
    ARROW_RETURN_NOT_OK(run->Close());
  }
  collected_.reservation().Clear();
  spilled_ = true;
  return Status::OK();
}

Status HashJoinBuild::Finalize(ExecContext* ctx) {
  std::vector<std::shared_ptr<arrow::RecordBatch>> rbs;
  int64_t collected_bytes = 0, rows = 0;
  for (auto& b : collected_.TakeInOrder()) {
    collected_bytes += BatchMemory(*b.data);
    rows += b.data->num_rows();
    rbs.push_back(std::move(b.data));
  }
  if (spilling_.load()) {
    // What workers handed over before the spill began goes to disk too.
    return SpillRest(ctx, rbs);
  }
  if (may_spill_ && !keys_.empty()) {
    // The rows fit while collected; the table needs them once more (concatenated), the
    // key index and the chains (about 40 bytes a row). When the budget cannot hold that
    // the build goes to disk instead.
    const auto* budget = ctx->budget();
    if (budget->limit() > 0 && rows > 0 &&
        budget->used() + collected_bytes + rows * 40 > budget->limit()) {
      return SpillRest(ctx, rbs);
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema_, rbs));
  rbs.clear();
  // One array per column, the columns concatenated on the job's threads.
  const int ncols = table->num_columns();
  arrow::ArrayVector columns(ncols);
  std::atomic<int> next_column{0};
  ARROW_RETURN_NOT_OK(RunWorkers(std::min(ctx->threads(), std::max(ncols, 1)), [&](int) {
    for (int c = next_column++; c < ncols; c = next_column++) {
      const auto& chunks = table->column(c)->chunks();
      if (chunks.size() == 1) {
        columns[c] = chunks[0];
      } else if (chunks.empty()) {
        ARROW_ASSIGN_OR_RAISE(
            columns[c], arrow::MakeEmptyArray(schema_->field(c)->type(), ctx->pool()));
      } else {
        ARROW_ASSIGN_OR_RAISE(columns[c], arrow::Concatenate(chunks, ctx->pool()));
      }
    }
    return Status::OK();
  }));
  rows_ = arrow::RecordBatch::Make(schema_, table->num_rows(), std::move(columns));
  table.reset();
  const int64_t n = rows_->num_rows();
  next_.assign(n, -1);
  matched_ = std::vector<std::atomic<uint8_t>>(n);
  if (keys_.empty()) {
    // Cross join: one key holding every row.
    first_.assign(1, -1);
    for (int64_t r = n - 1; r >= 0; --r) {
      next_[r] = first_[0];
      first_[0] = r;
    }
  } else {
    ARROW_ASSIGN_OR_RAISE(auto key_arrays, EvaluateKeys(keys_, *rows_));
    std::vector<std::shared_ptr<arrow::DataType>> types;
    for (const auto& k : key_arrays) types.push_back(k->type());
    ARROW_ASSIGN_OR_RAISE(table_, KeyIndex::Make(types));
    std::vector<uint32_t> ids(n);
    ARROW_RETURN_NOT_OK(table_->Build(key_arrays, KeyIndex::Nulls::kSkip, ids.data()));
    first_.assign(table_->size(), -1);
    key_done_ = std::vector<std::atomic<uint8_t>>(table_->size());
    // Back to front, so that each chain lists rows in input order.
    for (int64_t r = n - 1; r >= 0; --r) {
      if (ids[r] == KeyIndex::kSkipped) continue;
      next_[r] = first_[ids[r]];
      first_[ids[r]] = r;
    }
  }
  int64_t bytes = BatchMemory(*rows_) + (table_ ? table_->MemoryUsage() : 0) +
                  static_cast<int64_t>(first_.capacity() * 8 + next_.capacity() * 9);
  metrics().RecordPeak(bytes);
  Status room = collected_.reservation().Resize(bytes);
  if (room.IsOutOfMemory() && !may_spill_ && n < kMinSplitRows) {
    collected_.reservation().ResizeOverLimit(bytes);  // as in Consume
    return Status::OK();
  }
  if (room.IsOutOfMemory() && may_spill_ && !keys_.empty()) {
    // The estimate above let it through, the table did not fit: to disk after all.
    auto built = std::move(rows_);
    table_.reset();
    first_ = {};
    next_ = {};
    matched_ = std::vector<std::atomic<uint8_t>>();
    key_done_ = std::vector<std::atomic<uint8_t>>();
    return SpillRest(ctx, {built});
  }
  return room;
}

namespace {

// Take of one column by row indices. A null index (an outer join's missing side) goes
// through Arrow's Take, which makes that row null; the join's own indices are in range
// by construction and go through TakeRows.
Result<std::shared_ptr<arrow::Array>> TakeIndexed(
    const std::shared_ptr<arrow::Array>& values,
    const std::shared_ptr<arrow::Array>& indices, arrow::MemoryPool* pool) {
  if (indices->null_count() != 0) {
    ARROW_ASSIGN_OR_RAISE(auto d, cp::Take(values, indices));
    return d.make_array();
  }
  return TakeRows(values, indices->data()->GetValues<int64_t>(1), indices->length(),
                  pool);
}

// Builds output rows from (probe index, build index) pairs; a null index makes that
// side's columns null.
Result<std::shared_ptr<arrow::RecordBatch>> Assemble(
    const std::shared_ptr<arrow::RecordBatch>& probe,
    const std::shared_ptr<arrow::Array>& probe_idx,
    const std::shared_ptr<arrow::RecordBatch>& build,
    const std::shared_ptr<arrow::Array>& build_idx,
    const std::shared_ptr<arrow::Schema>& out_schema, bool left_only) {
  arrow::ArrayVector cols;
  const int64_t n = probe_idx->length();
  auto take_all = [&](const arrow::RecordBatch& rows,
                      const std::shared_ptr<arrow::Array>& idx) -> Status {
    for (const auto& column : rows.columns()) {
      ARROW_ASSIGN_OR_RAISE(auto c,
                            TakeIndexed(column, idx, arrow::default_memory_pool()));
      cols.push_back(std::move(c));
    }
    return Status::OK();
  };
  ARROW_RETURN_NOT_OK(take_all(*probe, probe_idx));
  if (!left_only) ARROW_RETURN_NOT_OK(take_all(*build, build_idx));
  return arrow::RecordBatch::Make(out_schema, n, std::move(cols));
}

class ProbeOp : public Operator {
 public:
  ProbeOp(HashJoinProbe* factory, ExecContext* ctx) : f_(factory), ctx_(ctx) {}

  Status ProcessBatch(Batch batch, Emitter* out) override {
    const auto& probe = batch.data;
    const int64_t n = probe->num_rows();
    const auto& build = *f_->build();
    const JoinType type = f_->type();
    // Whether rows decide by their match flag after the pairs (outer, semi, anti).
    const bool track_probe = type == JoinType::kLeft || type == JoinType::kFull ||
                             type == JoinType::kSemi || type == JoinType::kAnti;
    // Reused across batches: no fresh pages per batch.
    std::vector<uint8_t>& probe_matched = probe_matched_;
    probe_matched.assign(track_probe ? n : 0, 0);
    std::vector<int64_t>& chain_start = chain_start_;
    chain_start.assign(n, -1);
    if (build.has_keys()) {
      ARROW_ASSIGN_OR_RAISE(auto keys, EvaluateKeys(f_->probe_keys(), *probe));
      key_ids_.resize(n);
      ARROW_RETURN_NOT_OK(build.FindKeys(keys, &scratch_, key_ids_.data()));
      for (int64_t i = 0; i < n; ++i) {
        if (key_ids_[i] >= 0) chain_start[i] = build.first_row(key_ids_[i]);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) chain_start[i] = build.first_row(0);
    }
    const bool preserve = f_->preserve_build();
    if ((type == JoinType::kSemi || type == JoinType::kAnti) && !preserve &&
        !f_->condition()) {
      // A row is kept by whether its key is in the table: one filter, no index pairs.
      const bool want = type == JoinType::kSemi;
      keep_.resize(n);
      for (int64_t i = 0; i < n; ++i) keep_[i] = (chain_start[i] >= 0) == want;
      ARROW_ASSIGN_OR_RAISE(auto kept, FilterBatch(probe, keep_));
      if (kept->num_rows() == 0) return Status::OK();
      return out->Emit(Batch{arrow::RecordBatch::Make(f_->output_schema(),
                                                      kept->num_rows(), kept->columns()),
                             batch.seq});
    }
    if (preserve && build.has_keys() && !f_->condition()) {
      // Only marks: every build row of a probed key matches; each key is walked once.
      auto& done = f_->build()->key_done();
      auto& matched = f_->build()->matched();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = key_ids_[i];
        if (k < 0 || done[k].load(std::memory_order_relaxed)) continue;
        for (int64_t r = chain_start[i]; r >= 0; r = build.next_row(r)) {
          matched[r].store(1, std::memory_order_relaxed);
        }
        done[k].store(1, std::memory_order_relaxed);
      }
      return Status::OK();
    }
    // Walk the chains, emitting candidate pairs in chunks of about batch_rows.
    const int64_t chunk = ctx_->batch_rows();
    std::vector<int64_t> pv, bv;
    pv.reserve(std::min<int64_t>(chunk, n) + 1);
    bv.reserve(std::min<int64_t>(chunk, n) + 1);
    int64_t sub = 0;
    auto flush = [&]() -> Status {
      if (pv.empty()) return Status::OK();
      // Wrap the index vectors without copying: the buffers own the memory.
      auto wrap = [](std::vector<int64_t>* v) {
        auto buf =
            std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(v->data()),
                                            static_cast<int64_t>(v->size() * 8));
        return std::make_shared<arrow::Int64Array>(static_cast<int64_t>(v->size()), buf);
      };
      auto pidx = wrap(&pv);
      auto bidx = wrap(&bv);
      ARROW_ASSIGN_OR_RAISE(
          auto joined, Assemble(probe, pidx, build.rows(), bidx, JoinedSchema(), false));
      const int64_t* p = pv.data();
      const int64_t* b = bv.data();
      const bool mark_build =
          type == JoinType::kRight || type == JoinType::kFull || preserve;
      if (f_->condition()) {
        ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(f_->condition(), *joined));
        const auto& m = static_cast<const arrow::BooleanArray&>(*arr);
        for (int64_t k = 0; k < m.length(); ++k) {
          if (!(m.IsValid(k) && m.Value(k))) continue;
          if (track_probe) probe_matched[p[k]] = 1;
          if (mark_build)
            f_->build()->matched()[b[k]].store(1, std::memory_order_relaxed);
        }
        ARROW_ASSIGN_OR_RAISE(joined, FilterBatch(joined, arrow::Datum(arr)));
      } else if (track_probe || mark_build) {
        // Every candidate pair matches.
        for (size_t k = 0; k < pv.size(); ++k) {
          if (track_probe) probe_matched[p[k]] = 1;
          if (mark_build)
            f_->build()->matched()[b[k]].store(1, std::memory_order_relaxed);
        }
      }
      pv.clear();
      bv.clear();
      if (type == JoinType::kSemi || type == JoinType::kAnti) return Status::OK();
      if (joined->num_rows() == 0) return Status::OK();
      return out->Emit(Batch{joined, batch.seq + (sub++)});
    };
    const bool one_match = (type == JoinType::kSemi || type == JoinType::kAnti) &&
                           !f_->condition() && !preserve;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t r = chain_start[i]; r >= 0; r = build.next_row(r)) {
        pv.push_back(i);
        bv.push_back(r);
        if (static_cast<int64_t>(pv.size()) >= chunk) ARROW_RETURN_NOT_OK(flush());
        // Semi/anti joins without a condition need only one match per row.
        if (one_match) break;
      }
    }
    ARROW_RETURN_NOT_OK(flush());
    // Rows decided by their match flag (a preserved build side decides at the drain).
    if (preserve) return Status::OK();
    if (type == JoinType::kLeft || type == JoinType::kFull || type == JoinType::kSemi ||
        type == JoinType::kAnti) {
      bool want_matched = type == JoinType::kSemi;
      arrow::Int64Builder rows;
      for (int64_t i = 0; i < n; ++i) {
        if ((probe_matched[i] != 0) == want_matched) ARROW_RETURN_NOT_OK(rows.Append(i));
      }
      if (rows.length() == 0) return Status::OK();
      int64_t count = rows.length();
      ARROW_ASSIGN_OR_RAISE(auto pidx, rows.Finish());
      bool left_only = type == JoinType::kSemi || type == JoinType::kAnti;
      std::shared_ptr<arrow::Array> bidx;
      if (!left_only) {
        ARROW_ASSIGN_OR_RAISE(bidx, arrow::MakeArrayOfNull(arrow::int64(), count));
      }
      ARROW_ASSIGN_OR_RAISE(auto result, Assemble(probe, pidx, build.rows(), bidx,
                                                  f_->output_schema(), left_only));
      return out->Emit(Batch{result, batch.seq + (sub++)});
    }
    return Status::OK();
  }

 private:
  // Schema of candidate rows: left ++ right (for evaluating the condition).
  const std::shared_ptr<arrow::Schema>& JoinedSchema() {
    if (!joined_schema_) {
      arrow::FieldVector fields = f_->left_schema()->fields();
      for (const auto& fd : f_->build()->rows()->schema()->fields()) {
        fields.push_back(fd->WithNullable(true));
      }
      joined_schema_ = arrow::schema(fields);
      if (f_->type() != JoinType::kSemi && f_->type() != JoinType::kAnti) {
        joined_schema_ = f_->output_schema();
      }
    }
    return joined_schema_;
  }

  HashJoinProbe* f_;
  ExecContext* ctx_;
  ProbeScratch scratch_;
  std::vector<int64_t> key_ids_;
  std::vector<uint8_t> keep_;
  std::vector<uint8_t> probe_matched_;
  std::vector<int64_t> chain_start_;
  std::shared_ptr<arrow::Schema> joined_schema_;
};

}  // namespace

ProbeKeyFilter::ProbeKeyFilter(std::shared_ptr<HashJoinProbe> probe)
    : probe_(std::move(probe)) {
  for (const auto& k : probe_->probe_keys()) expr::CollectColumns(k, &columns_);
  std::sort(columns_.begin(), columns_.end());
  columns_.erase(std::unique(columns_.begin(), columns_.end()), columns_.end());
}

Status ProbeKeyFilter::Select(const std::shared_ptr<arrow::RecordBatch>& batch,
                              const int32_t* rows, int64_t n, ProbeScratch* scratch,
                              std::vector<int32_t>* out) const {
  out->clear();
  const auto& build = *probe_->build();
  if (build.spilled()) {  // no index in memory: every row goes on
    for (int64_t i = 0; i < n; ++i) {
      out->push_back(rows != nullptr ? rows[i] : static_cast<int32_t>(i));
    }
    return Status::OK();
  }
  std::shared_ptr<arrow::RecordBatch> keyed = batch;
  if (rows != nullptr) {
    // Only the key columns matter: the others stay placeholders of n rows.
    arrow::ArrayVector cols;
    arrow::FieldVector fields;
    for (int c = 0; c < batch->num_columns(); ++c) {
      if (std::binary_search(columns_.begin(), columns_.end(), c)) {
        ARROW_ASSIGN_OR_RAISE(auto taken, TakeRows(batch->column(c), rows, n,
                                                   arrow::default_memory_pool()));
        cols.push_back(std::move(taken));
      } else {
        cols.push_back(std::make_shared<arrow::NullArray>(n));
      }
      fields.push_back(
          arrow::field(batch->schema()->field(c)->name(), cols.back()->type()));
    }
    keyed =
        arrow::RecordBatch::Make(arrow::schema(std::move(fields)), n, std::move(cols));
  }
  ARROW_ASSIGN_OR_RAISE(auto keys, EvaluateKeys(probe_->probe_keys(), *keyed));
  auto& ids = scratch->found_ids;
  ids.resize(static_cast<size_t>(n));
  ARROW_RETURN_NOT_OK(build.FindKeys(keys, scratch, ids.data()));
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] >= 0) out->push_back(rows != nullptr ? rows[i] : static_cast<int32_t>(i));
  }
  return Status::OK();
}

std::shared_ptr<ProbeKeyFilter> HashJoinProbe::KeyFilter() {
  if (!build_->has_keys()) return nullptr;
  // Only joins that drop the probe rows without a match.
  if (type_ != JoinType::kInner && type_ != JoinType::kSemi &&
      type_ != JoinType::kRight) {
    return nullptr;
  }
  return std::make_shared<ProbeKeyFilter>(shared_from_this());
}

HashJoinProbe::HashJoinProbe(std::shared_ptr<HashJoinBuild> build, JoinType type,
                             std::vector<expr::Expr> probe_keys, expr::Expr condition,
                             std::shared_ptr<arrow::Schema> left_schema,
                             std::shared_ptr<arrow::Schema> output_schema,
                             bool preserve_build)
    : OperatorFactory(std::string("HashJoin ") + plan::JoinTypeName(type) +
                      (preserve_build ? " (build side preserved)" : "")),
      build_(std::move(build)),
      type_(type),
      probe_keys_(std::move(probe_keys)),
      condition_(std::move(condition)),
      left_schema_(std::move(left_schema)),
      output_schema_(std::move(output_schema)),
      preserve_build_(preserve_build) {}

namespace {

// Once the build side spilled: puts the probe rows into partitions on disk (the join
// happens in DrainSource).
class PartitionProbeOp : public Operator {
 public:
  PartitionProbeOp(HashJoinProbe* factory, ExecContext* ctx) : f_(factory), ctx_(ctx) {}

  Status ProcessBatch(Batch batch, Emitter*) override {
    if (batch.data->num_rows() == 0) return Status::OK();
    if (!run_) {
      ARROW_ASSIGN_OR_RAISE(auto* set, f_->ProbeSpill(ctx_, batch.data->schema()));
      ARROW_ASSIGN_OR_RAISE(run_, set->NewRun());
    }
    return WriteJoinPartitions(run_.get(), f_->probe_keys(), batch.data, 0);
  }

  Status Finish(Emitter*) override {
    if (!run_) return Status::OK();
    ARROW_RETURN_NOT_OK(run_->Close());
    run_.reset();
    return Status::OK();
  }

 private:
  HashJoinProbe* f_;
  ExecContext* ctx_;
  std::unique_ptr<SpillRun> run_;
};

// The joins of the spilled partitions, one morsel each.
class PartitionJoinSource : public Source {
 public:
  explicit PartitionJoinSource(HashJoinProbe* factory)
      : PhysicalNode("HashJoin spilled partitions"), f_(factory) {}
  Status Prepare(ExecContext*) override { return Status::OK(); }
  int64_t num_morsels() const override { return HashJoinBuild::kJoinPartitions; }
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override {
    return f_->JoinPartition(ctx, static_cast<int>(morsel), out);
  }

 private:
  HashJoinProbe* f_;
};

}  // namespace

HashJoinProbe::~HashJoinProbe() = default;

Result<std::unique_ptr<Operator>> HashJoinProbe::Make(ExecContext* ctx, int worker) {
  if (build_->spilled()) return std::make_unique<PartitionProbeOp>(this, ctx);
  return std::make_unique<ProbeOp>(this, ctx);
}

Result<SpillSet*> HashJoinProbe::ProbeSpill(
    ExecContext* ctx, const std::shared_ptr<arrow::Schema>& schema) {
  std::lock_guard<std::mutex> lock(probe_spill_mu_);
  if (!probe_spill_) {
    probe_spill_ = std::make_unique<SpillSet>(ctx, "HashJoin probe", schema,
                                              HashJoinBuild::kJoinPartitions,
                                              &metrics().spilled_bytes);
  }
  return probe_spill_.get();
}

namespace {

// Counts what passes through (whether a partition's join emitted anything yet).
class CountingOut : public Emitter {
 public:
  explicit CountingOut(Emitter* inner) : inner_(inner) {}
  Status Emit(Batch batch) override {
    ++batches_;
    return inner_->Emit(std::move(batch));
  }
  Status EmitWatermark(Watermark wm) override { return inner_->EmitWatermark(wm); }
  int64_t batches() const { return batches_; }

 private:
  Emitter* inner_;
  int64_t batches_ = 0;
};

}  // namespace

Status HashJoinProbe::JoinPartition(ExecContext* ctx, int part, Emitter* out) {
  // Partitions join side by side, each holding its table. A partition that does not
  // fit beside the others tries again alone, if it emitted nothing yet (its build only
  // reserves; a split partition may have joined some of its parts).
  SpillSet* probe_rows;
  {
    std::lock_guard<std::mutex> lock(probe_spill_mu_);
    probe_rows = probe_spill_.get();
  }
  CountingOut counted(out);
  Status st;
  {
    std::shared_lock<std::shared_mutex> beside(partition_mu_);
    st = JoinSpilled(ctx, build_->spill(), probe_rows, part, 0, &counted);
  }
  if (st.IsOutOfMemory() && ctx->threads() > 1 && counted.batches() == 0) {
    std::unique_lock<std::shared_mutex> alone(partition_mu_);
    st = JoinSpilled(ctx, build_->spill(), probe_rows, part, 0, &counted);
  }
  ARROW_RETURN_NOT_OK(st);
  if (++partitions_done_ == HashJoinBuild::kJoinPartitions) {
    // Every partition joined: the files can go now rather than with the plan.
    std::lock_guard<std::mutex> lock(probe_spill_mu_);
    probe_spill_.reset();
    build_->DropSpill();
  }
  return Status::OK();
}

Status HashJoinProbe::JoinSpilled(ExecContext* ctx, const SpillSet& builds,
                                  const SpillSet* probes, int part, int level,
                                  Emitter* out) {
  auto build = std::make_shared<HashJoinBuild>(build_->keys(), build_->schema(),
                                               /*may_spill=*/false);
  Status st;
  {
    ARROW_ASSIGN_OR_RAISE(auto local, build->MakeLocal(ctx, 0));
    st = builds.ReadPartition(
        part, [&](std::shared_ptr<arrow::RecordBatch> batch) -> Status {
          if (ctx->cancelled()) return Status::Cancelled("cancelled");
          return build->Consume(ctx, local.get(), Batch{std::move(batch), 0});
        });
    if (st.ok()) st = build->FinishLocal(ctx, std::move(local));
  }
  if (st.ok()) st = build->Finalize(ctx);
  if (st.IsOutOfMemory()) {
    build.reset();  // gives its memory back before the split
    if (level + 1 >= kMaxJoinLevels) {
      return st.WithMessage(st.message(),
                            "; a partition of the build side does not fit "
                            "even after ",
                            level + 1, " splits into ", HashJoinBuild::kJoinPartitions);
    }
    // Split this partition's build and probe rows again, by another seed, and join the
    // parts in turn.
    auto split = [&](const SpillSet& from, const std::vector<expr::Expr>& keys,
                     std::unique_ptr<SpillSet>* to) -> Status {
      *to = std::make_unique<SpillSet>(ctx, name(), from.schema(),
                                       HashJoinBuild::kJoinPartitions,
                                       &metrics().spilled_bytes);
      ARROW_ASSIGN_OR_RAISE(auto run, (*to)->NewRun());
      ARROW_RETURN_NOT_OK(from.ReadPartition(
          part, [&](std::shared_ptr<arrow::RecordBatch> batch) -> Status {
            return WriteJoinPartitions(run.get(), keys, batch, level + 1);
          }));
      ARROW_RETURN_NOT_OK(run->Close());
      return Status::OK();
    };
    std::unique_ptr<SpillSet> deeper_builds, deeper_probes;
    ARROW_RETURN_NOT_OK(split(builds, build_->keys(), &deeper_builds));
    if (probes != nullptr)
      ARROW_RETURN_NOT_OK(split(*probes, probe_keys_, &deeper_probes));
    for (int p = 0; p < HashJoinBuild::kJoinPartitions; ++p) {
      ARROW_RETURN_NOT_OK(
          JoinSpilled(ctx, *deeper_builds, deeper_probes.get(), p, level + 1, out));
    }
    return Status::OK();
  }
  ARROW_RETURN_NOT_OK(st);
  HashJoinProbe probe(build, type_, probe_keys_, condition_, left_schema_, output_schema_,
                      preserve_build_);
  ARROW_ASSIGN_OR_RAISE(auto op, probe.Make(ctx, 0));
  if (probes != nullptr) {
    // The partition's rows come in slices of the probe batches: probed in batches of
    // about batch_rows again.
    int64_t seq = 0;
    std::vector<std::shared_ptr<arrow::RecordBatch>> pending;
    int64_t pending_rows = 0;
    auto probe_pending = [&]() -> Status {
      if (pending.empty()) return Status::OK();
      std::shared_ptr<arrow::RecordBatch> batch = pending[0];
      if (pending.size() > 1) {
        ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(pending));
        ARROW_ASSIGN_OR_RAISE(batch, table->CombineChunksToBatch(ctx->pool()));
      }
      pending.clear();
      pending_rows = 0;
      return op->ProcessBatch(Batch{std::move(batch), MorselSeq(part, seq++)}, out);
    };
    ARROW_RETURN_NOT_OK(probes->ReadPartition(
        part, [&](std::shared_ptr<arrow::RecordBatch> batch) -> Status {
          if (ctx->cancelled()) return Status::Cancelled("cancelled");
          pending_rows += batch->num_rows();
          pending.push_back(std::move(batch));
          return pending_rows >= ctx->batch_rows() ? probe_pending() : Status::OK();
        }));
    ARROW_RETURN_NOT_OK(probe_pending());
  }
  ARROW_RETURN_NOT_OK(op->Finish(out));
  ARROW_ASSIGN_OR_RAISE(auto drain, probe.DrainSource());
  if (!drain) return Status::OK();
  ARROW_RETURN_NOT_OK(drain->Prepare(ctx));
  for (int64_t m = 0; m < drain->num_morsels(); ++m) {
    ARROW_RETURN_NOT_OK(drain->Produce(ctx, m, out));
  }
  return Status::OK();
}

Result<std::shared_ptr<Source>> HashJoinProbe::DrainSource() {
  if (build_->spilled()) return std::make_shared<PartitionJoinSource>(this);
  if (preserve_build_) {
    // Semi: the build rows some probe row matched; anti: the others.
    const uint8_t want = type_ == JoinType::kSemi ? 1 : 0;
    auto& matched = build_->matched();
    arrow::Int64Builder rows;
    for (size_t r = 0; r < matched.size(); ++r) {
      if (matched[r].load() == want) {
        ARROW_RETURN_NOT_OK(rows.Append(static_cast<int64_t>(r)));
      }
    }
    const int64_t count = rows.length();
    ARROW_ASSIGN_OR_RAISE(auto idx, rows.Finish());
    arrow::ArrayVector cols;
    for (const auto& c : build_->rows()->columns()) {
      ARROW_ASSIGN_OR_RAISE(auto taken,
                            TakeIndexed(c, idx, arrow::default_memory_pool()));
      cols.push_back(std::move(taken));
    }
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {
        arrow::RecordBatch::Make(output_schema_, count, std::move(cols))};
    return std::make_shared<BatchListSource>(batches, "HashJoin preserved build rows");
  }
  if (type_ != JoinType::kRight && type_ != JoinType::kFull) return nullptr;
  auto& matched = build_->matched();
  arrow::Int64Builder rows;
  for (size_t r = 0; r < matched.size(); ++r) {
    if (!matched[r].load()) ARROW_RETURN_NOT_OK(rows.Append(static_cast<int64_t>(r)));
  }
  int64_t count = rows.length();
  ARROW_ASSIGN_OR_RAISE(auto bidx, rows.Finish());
  ARROW_ASSIGN_OR_RAISE(auto pidx, arrow::MakeArrayOfNull(arrow::int64(), count));
  // The left columns are all null: take null indices from a one-row null batch.
  arrow::ArrayVector left_nulls;
  for (const auto& f : left_schema_->fields()) {
    ARROW_ASSIGN_OR_RAISE(auto a, arrow::MakeArrayOfNull(f->type(), 1));
    left_nulls.push_back(a);
  }
  auto left_batch = arrow::RecordBatch::Make(left_schema_, 1, left_nulls);
  ARROW_ASSIGN_OR_RAISE(auto assembled, Assemble(left_batch, pidx, build_->rows(), bidx,
                                                 output_schema_, false));
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {assembled};
  return std::make_shared<BatchListSource>(batches, "HashJoin unmatched build rows");
}

}  // namespace sluice::exec
