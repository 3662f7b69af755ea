#include "sluice/exec/operators/stream_join.h"

#include <arrow/array/util.h>

#include <algorithm>
#include <unordered_map>

#include "sluice/base/memory.h"
#include "sluice/exec/late_rows.h"
#include "sluice/exec/operators/time_window.h"
#include "sluice/exec/row_encoding.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

using plan::JoinType;

// Each row's time in microseconds (valid[i] = 0: NULL) from a timestamp column.
void TimesOf(const arrow::Array& column, std::vector<int64_t>* times,
             std::vector<uint8_t>* valid) {
  const int64_t n = column.length();
  times->assign(n, 0);
  valid->assign(n, 0);
  const auto unit = static_cast<const arrow::TimestampType&>(*column.type()).unit();
  const auto& ts = static_cast<const arrow::TimestampArray&>(column);
  for (int64_t i = 0; i < n; ++i) {
    if (ts.IsNull(i)) continue;
    (*times)[i] = TimestampMicros(ts.Value(i), unit);
    (*valid)[i] = 1;
  }
}

// One worker's share of the join: the exchange's reader for its consumer.
class JoinWorker : public Exchange::Reader {
 public:
  JoinWorker(const StreamJoinSpec& spec, ExecContext* ctx, PhysicalNode* node,
             int64_t morsel, Emitter* out)
      : spec_(spec),
        ctx_(ctx),
        morsel_(morsel),
        node_(node),
        out_(out),
        reservation_(ctx->budget(), "StreamJoin") {
    arrow::FieldVector fields = spec.left_schema->fields();
    for (const auto& f : spec.right_schema->fields()) fields.push_back(f);
    pair_schema_ = arrow::schema(fields);
    semi_ = spec.type == JoinType::kSemi || spec.type == JoinType::kAnti;
    keep_unmatched_[0] = spec.type == JoinType::kLeft || spec.type == JoinType::kFull ||
                         spec.type == JoinType::kAnti;
    keep_unmatched_[1] = spec.type == JoinType::kRight || spec.type == JoinType::kFull;
  }

  Status OnBatch(int port, std::shared_ptr<arrow::RecordBatch> batch) override {
    ARROW_RETURN_NOT_OK(Probe(port, batch));
    // Results go on as soon as both rows are here, not when a batch has filled.
    ARROW_RETURN_NOT_OK(Flush());
    return Account();
  }

  Status OnWatermark(int port, Watermark wm) override {
    marks_[port] = wm;
    // The rows of the other side that no row of this one can match any more.
    ARROW_RETURN_NOT_OK(ExpireSide(1 - port, wm));
    ARROW_RETURN_NOT_OK(Flush());
    ARROW_RETURN_NOT_OK(Account());
    if (spec_.output_delay == kForever) return Status::OK();
    const int64_t low =
        SaturatingAdd(std::min(marks_[0], marks_[1]), -spec_.output_delay);
    if (low <= emitted_) return Status::OK();
    emitted_ = low;
    return out_->EmitWatermark(low);
  }

  Status Init() {
    ARROW_ASSIGN_OR_RAISE(backend_, MakeStateBackend(ctx_, morsel_));
    ARROW_ASSIGN_OR_RAISE(state_[0], backend_->Rows("left"));
    ARROW_ASSIGN_OR_RAISE(state_[1], backend_->Rows("right"));
    return Status::OK();
  }

  /// Every producer ended: the rows still kept leave (unmatched ones of an outer join
  /// come out now).
  Status Finish() {
    ARROW_RETURN_NOT_OK(ExpireSide(0, kForever));
    ARROW_RETURN_NOT_OK(ExpireSide(1, kForever));
    ARROW_RETURN_NOT_OK(Flush());
    return reservation_.Resize(0);
  }

 private:
  const std::vector<expr::Expr>& Keys(int side) const {
    return side == 0 ? spec_.left_keys : spec_.right_keys;
  }
  int TimeColumn(int side) const {
    return side == 0 ? spec_.left_time : spec_.right_time;
  }
  int64_t Reach(int side) const {
    return side == 0 ? spec_.left_reach : spec_.right_reach;
  }
  bool DropLate(int side) const {
    return side == 0 ? spec_.drop_late_left : spec_.drop_late_right;
  }

  // Joins a batch arriving on `side` with the other side's state, then keeps its rows.
  Status Probe(int side, const std::shared_ptr<arrow::RecordBatch>& batch) {
    const int other = 1 - side;
    const int64_t n = batch->num_rows();
    arrow::ArrayVector keys;
    for (const auto& k : Keys(side)) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, *batch));
      keys.push_back(std::move(arr));
    }
    EncodedRows enc;
    if (keys.empty()) {
      enc.offsets.assign(n + 1, 0);
      enc.hashes.assign(n, 0);
      enc.any_null.assign(n, 0);
    } else {
      ARROW_RETURN_NOT_OK(EncodeRows(keys, &enc));
    }
    std::vector<int64_t> time;
    std::vector<uint8_t> time_valid;
    if (TimeColumn(side) >= 0)
      TimesOf(*batch->column(TimeColumn(side)), &time, &time_valid);
    const bool timed = TimeColumn(0) >= 0 && TimeColumn(1) >= 0;

    // Candidate pairs, by the other side's batch.
    std::vector<uint8_t> usable(n, 0);
    std::vector<uint8_t> dropped(n, 0);  // late: neither joined nor emitted
    std::vector<int32_t> late_rows;      // for the late-data sink
    matched_now_.assign(n, 0);
    int64_t late = 0, timeless = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (DropLate(side)) {
        if (!time_valid[i]) {
          // No time, no match (the bound is a condition): an outer or anti join emits
          // it unmatched below, others drop and count it.
          if (!keep_unmatched_[side]) {
            ++timeless;
            dropped[i] = 1;
          }
          continue;
        }
        if (time[i] <= marks_[side]) {
          ++late;
          dropped[i] = 1;
          if (ctx_->late_rows() != nullptr) late_rows.push_back(static_cast<int32_t>(i));
          continue;
        }
      }
      if (enc.any_null[i]) continue;  // matches nothing
      usable[i] = 1;
    }
    // With time bounds, the other side's rows must lie within them of each row's time
    // (right - left in [lo, hi]): the state skips the others as it walks a key's rows.
    candidates_.clear();
    if (timed) {
      probe_.assign(usable.begin(), usable.end());
      min_time_.resize(n);
      max_time_.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        if (!time_valid[i]) {
          probe_[i] = 0;  // no time, no match
          continue;
        }
        min_time_[i] = side == 0 ? SaturatingAdd(time[i], spec_.lo)
                                 : SaturatingSub(time[i], spec_.hi);
        max_time_[i] = side == 0 ? SaturatingAdd(time[i], spec_.hi)
                                 : SaturatingSub(time[i], spec_.lo);
      }
      state_[other]->Probe(enc, probe_.data(), min_time_.data(), max_time_.data(), n,
                           &candidates_);
    } else {
      state_[other]->Probe(enc, usable.data(), nullptr, nullptr, n, &candidates_);
    }
    // Candidate pairs by the other side's batch.
    std::unordered_map<uint64_t, std::vector<std::pair<int32_t, uint32_t>>> by_batch;
    for (const KeyedRows::Candidate& c : candidates_) {
      by_batch[c.ref.batch].emplace_back(c.probe_row, c.ref.row);
    }
    if (late > 0) ctx_->progress().rows_late += late;
    ARROW_RETURN_NOT_OK(WriteLateRows(ctx_,
                                      side == 0 ? "StreamJoin left" : "StreamJoin right",
                                      marks_[side], batch, late_rows));
    if (timeless > 0) ctx_->progress().rows_without_time += timeless;
    for (auto& [id, pairs] : by_batch) {
      ARROW_RETURN_NOT_OK(JoinPairs(side, batch, id, pairs));
    }

    // Keep the rows that may still match rows to come; the others leave now.
    std::vector<int32_t> keep, unmatched;
    const int64_t reach = Reach(side);
    for (int64_t i = 0; i < n; ++i) {
      // Once the other side has ended, nothing is left for a row to wait for.
      bool stays = usable[i] != 0 && marks_[other] != kMaxWatermark;
      if (stays && reach != kForever) {
        // A row without a time cannot be aged: it leaves at once.
        stays = time_valid[i] && SaturatingAdd(time[i], reach) > marks_[other];
      }
      if (stays) {
        keep.push_back(static_cast<int32_t>(i));
      } else if (keep_unmatched_[side] && !matched_now_[i] && !dropped[i]) {
        unmatched.push_back(static_cast<int32_t>(i));
      }
    }
    if (!unmatched.empty()) ARROW_RETURN_NOT_OK(EmitUnmatched(side, batch, unmatched));
    if (keep.empty()) return Status::OK();
    std::shared_ptr<arrow::RecordBatch> stored = batch;
    std::vector<int32_t> rows = keep;
    if (static_cast<int64_t>(keep.size()) * 2 < n) {
      // Keep only those rows, not the whole batch.
      ARROW_ASSIGN_OR_RAISE(
          stored, TakeBatchRows(batch, keep.data(), static_cast<int64_t>(keep.size()),
                                ctx_->pool()));
      EncodedRows kept;
      kept.offsets.push_back(0);
      std::vector<int64_t> kept_time;
      std::vector<uint8_t> kept_matched;
      for (int32_t i : keep) {
        const std::string_view k = enc.row(i);
        kept.bytes.insert(kept.bytes.end(), k.begin(), k.end());
        kept.offsets.push_back(static_cast<uint32_t>(kept.bytes.size()));
        if (!time.empty()) kept_time.push_back(time[i]);
        kept_matched.push_back(matched_now_[i]);
      }
      for (size_t j = 0; j < keep.size(); ++j) rows[j] = static_cast<int32_t>(j);
      return state_[side]->Add(std::move(stored), kept, kept_time, kept_matched, rows,
                               reach);
    }
    return state_[side]->Add(std::move(stored), enc, time, matched_now_, rows, reach);
  }

  // Rows `pairs` (row of the arriving batch, row of the other side's stored batch
  // `id`): the condition decides, then matches come out.
  Status JoinPairs(int side, const std::shared_ptr<arrow::RecordBatch>& batch,
                   uint64_t id, const std::vector<std::pair<int32_t, uint32_t>>& pairs) {
    const int other = 1 - side;
    KeyedRows* stored = state_[other];
    const std::shared_ptr<arrow::RecordBatch>& stored_batch =
        stored->batch_of(RowRef{id, pairs[0].second});
    const int64_t m = static_cast<int64_t>(pairs.size());
    std::vector<int32_t> mine(m), theirs(m);
    for (int64_t j = 0; j < m; ++j) {
      mine[j] = pairs[j].first;
      theirs[j] = static_cast<int32_t>(pairs[j].second);
    }
    ARROW_ASSIGN_OR_RAISE(auto a, TakeBatchRows(batch, mine.data(), m, ctx_->pool()));
    ARROW_ASSIGN_OR_RAISE(auto b,
                          TakeBatchRows(stored_batch, theirs.data(), m, ctx_->pool()));
    const auto& left = side == 0 ? a : b;
    const auto& right = side == 0 ? b : a;
    arrow::ArrayVector cols = left->columns();
    for (const auto& c : right->columns()) cols.push_back(c);
    // Outer joins' output schema has the other side nullable: matched rows carry it too.
    auto joined = arrow::RecordBatch::Make(semi_ ? pair_schema_ : spec_.output_schema, m,
                                           std::move(cols));
    std::vector<int32_t> pass;
    if (spec_.condition) {
      ARROW_ASSIGN_OR_RAISE(auto keep, expr::EvaluateToArray(spec_.condition, *joined));
      const auto& k = static_cast<const arrow::BooleanArray&>(*keep);
      SelectionFromBits(k.values()->data(),
                        k.null_count() > 0 ? k.null_bitmap_data() : nullptr, k.offset(),
                        m, &pass);
    } else {
      pass.resize(m);
      for (int64_t j = 0; j < m; ++j) pass[j] = static_cast<int32_t>(j);
    }
    if (pass.empty()) return Status::OK();
    std::vector<int32_t> newly_matched_left;  // semi join: left rows matched first now
    for (int32_t j : pass) {
      const int32_t i = mine[j];
      const uint32_t r = pairs[j].second;
      if (semi_) {
        if (side == 0) {
          if (!matched_now_[i] && spec_.type == JoinType::kSemi) {
            newly_matched_left.push_back(i);
          }
        } else if (!stored->matched(RowRef{id, r}) && spec_.type == JoinType::kSemi) {
          newly_matched_left.push_back(static_cast<int32_t>(r));
        }
      }
      matched_now_[i] = 1;
      stored->SetMatched(RowRef{id, r});
    }
    if (!semi_) {
      if (static_cast<int64_t>(pass.size()) == m) return Buffer(std::move(joined));
      ARROW_ASSIGN_OR_RAISE(
          auto out, TakeBatchRows(joined, pass.data(), static_cast<int64_t>(pass.size()),
                                  ctx_->pool()));
      return Buffer(std::move(out));
    }
    if (newly_matched_left.empty()) return Status::OK();
    const auto& source = side == 0 ? batch : stored_batch;
    ARROW_ASSIGN_OR_RAISE(
        auto out,
        TakeBatchRows(source, newly_matched_left.data(),
                      static_cast<int64_t>(newly_matched_left.size()), ctx_->pool()));
    return Buffer(std::move(out));
  }

  // Rows `rows` of `batch` (of `side`) that matched nothing, as the output has them.
  Status EmitUnmatched(int side, const std::shared_ptr<arrow::RecordBatch>& batch,
                       const std::vector<int32_t>& rows) {
    const int64_t m = static_cast<int64_t>(rows.size());
    ARROW_ASSIGN_OR_RAISE(auto taken, TakeBatchRows(batch, rows.data(), m, ctx_->pool()));
    if (semi_) return Buffer(std::move(taken));  // anti: the left rows as they are
    arrow::ArrayVector cols;
    auto nulls = [&](const arrow::Schema& schema) -> Status {
      for (const auto& f : schema.fields()) {
        ARROW_ASSIGN_OR_RAISE(auto a, arrow::MakeArrayOfNull(f->type(), m, ctx_->pool()));
        cols.push_back(std::move(a));
      }
      return Status::OK();
    };
    if (side == 0) {
      cols = taken->columns();
      ARROW_RETURN_NOT_OK(nulls(*spec_.right_schema));
    } else {
      ARROW_RETURN_NOT_OK(nulls(*spec_.left_schema));
      for (const auto& c : taken->columns()) cols.push_back(c);
    }
    return Buffer(arrow::RecordBatch::Make(spec_.output_schema, m, std::move(cols)));
  }

  // Rows of `side` leave the state once the other side's watermark is `wm`.
  Status ExpireSide(int side, int64_t wm) {
    if (Reach(side) == kForever && wm != kForever) return Status::OK();
    // Unmatched rows of an outer (or anti) join come out as they leave, by batch.
    gone_.clear();
    if (!keep_unmatched_[side]) {
      state_[side]->Expire(wm, nullptr);
      return Status::OK();
    }
    state_[side]->Expire(wm, &gone_);
    std::vector<int32_t> rows;
    for (const KeyedRows::Gone& g : gone_) {
      rows.clear();
      for (size_t j = 0; j < g.rows.size(); ++j) {
        if (!g.matched[j]) rows.push_back(g.rows[j]);
      }
      if (!rows.empty()) ARROW_RETURN_NOT_OK(EmitUnmatched(side, g.batch, rows));
    }
    return Status::OK();
  }

  // Output is gathered into batches of about batch_rows rows.
  Status Buffer(std::shared_ptr<arrow::RecordBatch> batch) {
    pending_rows_ += batch->num_rows();
    pending_.push_back(std::move(batch));
    if (pending_rows_ >= ctx_->batch_rows()) return Flush();
    return Status::OK();
  }

  Status Flush() {
    if (pending_.empty()) return Status::OK();
    std::shared_ptr<arrow::RecordBatch> out;
    if (pending_.size() == 1) {
      out = std::move(pending_[0]);
    } else {
      ARROW_ASSIGN_OR_RAISE(out, arrow::ConcatenateRecordBatches(pending_, ctx_->pool()));
    }
    pending_.clear();
    pending_rows_ = 0;
    return out_->Emit(Batch{std::move(out), MorselSeq(morsel_, seq_++)});
  }

  Status Account() {
    const int64_t bytes = backend_->MemoryUsage();
    node_->metrics().RecordPeak(bytes);
    return reservation_.Resize(bytes);
  }

  const StreamJoinSpec& spec_;
  ExecContext* ctx_;
  int64_t morsel_;
  PhysicalNode* node_;
  Emitter* out_;
  MemoryReservation reservation_;
  std::shared_ptr<arrow::Schema> pair_schema_;
  bool semi_ = false;
  bool keep_unmatched_[2] = {false, false};
  // Each side's kept rows: keyed state (state/state_backend.h).
  std::unique_ptr<StateBackend> backend_;
  KeyedRows* state_[2] = {nullptr, nullptr};
  std::vector<KeyedRows::Candidate> candidates_;
  std::vector<uint8_t> probe_;  // rows that probe (usable, with a time)
  std::vector<int64_t> min_time_, max_time_;
  std::vector<KeyedRows::Gone> gone_;
  Watermark marks_[2] = {std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::min()};
  Watermark emitted_ = std::numeric_limits<int64_t>::min();
  std::vector<uint8_t> matched_now_;  // rows of the arriving batch that matched
  std::vector<std::shared_ptr<arrow::RecordBatch>> pending_;
  int64_t pending_rows_ = 0;
  int64_t seq_ = 0;
};

}  // namespace

StreamJoin::StreamJoin(StreamJoinSpec spec)
    : PhysicalNode("StreamJoin"),
      spec_(std::move(spec)),
      exchange_(std::make_shared<Exchange>(
          std::vector<std::vector<expr::Expr>>{spec_.left_keys, spec_.right_keys})) {}

Status StreamJoin::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  StreamJoinSpec spec = spec_;
  const bool regular = spec.left_time < 0 || spec.right_time < 0;
  if (regular && ctx->state_ttl_us() >= 0) {
    if (spec.ttl_left_time < 0 || spec.ttl_right_time < 0) {
      return Status::Invalid(
          "state_ttl: a row leaves a regular join's state by its event time, so both "
          "inputs of the join need one: a source's event time column used by the query "
          "(select it), or window columns");
    }
    // Rows further apart in event time than the TTL do not meet: an interval join of
    // +-TTL, so that what meets does not depend on which input ran ahead.
    const int64_t ttl = ctx->state_ttl_us();
    spec.left_time = spec.ttl_left_time;
    spec.right_time = spec.ttl_right_time;
    spec.lo = -ttl;
    spec.hi = ttl;
    spec.left_reach = spec.right_reach = ttl;
    spec.drop_late_left = spec.drop_late_right = true;
    spec.output_delay = ttl;
  }
  JoinWorker worker(spec, ctx, this, morsel, out);
  ARROW_RETURN_NOT_OK(worker.Init());
  ARROW_RETURN_NOT_OK(exchange_->Read(ctx, morsel, &worker));
  return worker.Finish();
}

}  // namespace sluice::exec
