#include "sluice/exec/operators/time_window.h"

#include <arrow/compute/api.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "sluice/base/memory.h"
#include "sluice/exec/late_rows.h"
#include "sluice/exec/operators/aggregate_functions.h"
#include "sluice/exec/state/state_backend.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

using ArrayPtr = std::shared_ptr<arrow::Array>;
using Accumulators = std::vector<std::unique_ptr<GroupedAccumulator>>;

Result<ArrayPtr> TimestampArray(const std::vector<int64_t>& values,
                                const std::shared_ptr<arrow::DataType>& type,
                                arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(
      auto buffer, arrow::AllocateBuffer(static_cast<int64_t>(values.size()) * 8, pool));
  if (!values.empty())
    std::memcpy(buffer->mutable_data(), values.data(), values.size() * 8);
  return arrow::MakeArray(arrow::ArrayData::Make(
      type, static_cast<int64_t>(values.size()), {nullptr, std::move(buffer)}, 0));
}

// ---- placing rows ---------------------------------------------------------------------

class TimeWindowOp : public Operator {
 public:
  TimeWindowOp(ExecContext* ctx, const TimeWindowSpec& spec, int time_column, bool panes,
               std::shared_ptr<arrow::Schema> schema)
      : ctx_(ctx),
        spec_(spec),
        time_column_(time_column),
        panes_(panes),
        schema_(std::move(schema)) {}

  Status ProcessBatch(Batch batch, Emitter* out) override {
    std::shared_ptr<arrow::RecordBatch> rb = batch.data;
    const auto& time = *rb->column(time_column_);
    if (time.null_count() > 0) {
      std::vector<int32_t> keep;
      const auto& validity = time.data()->buffers[0];
      SelectionFromBits(validity->data(), nullptr, time.offset(), time.length(), &keep);
      ctx_->progress().rows_without_time +=
          time.length() - static_cast<int64_t>(keep.size());
      ARROW_ASSIGN_OR_RAISE(
          rb, TakeBatchRows(rb, keep.data(), static_cast<int64_t>(keep.size()),
                            ctx_->pool()));
    }
    const int64_t n = rb->num_rows();
    if (n == 0) return Status::OK();
    const auto unit =
        static_cast<const arrow::TimestampType&>(*rb->column(time_column_)->type())
            .unit();
    const int64_t* raw = rb->column(time_column_)->data()->GetValues<int64_t>(1);
    std::vector<int64_t> start(n), end(n);
    std::vector<int32_t> repeat;  // hop rows: each input row once per window
    const int64_t size = spec_.size_us;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = TimestampMicros(raw[i], unit);
      switch (spec_.kind) {
        case plan::TimeWindowKind::kTumble:
          start[i] = FloorDiv(t, size) * size;
          end[i] = start[i] + size;
          break;
        case plan::TimeWindowKind::kHop:
          start[i] = FloorDiv(t, spec_.slide_us) * spec_.slide_us;
          end[i] = start[i] + (panes_ ? spec_.slide_us : size);
          break;
        case plan::TimeWindowKind::kSession:
          start[i] = t;
          end[i] = SaturatingAdd(t, spec_.gap_us);
          break;
      }
    }
    if (spec_.kind == plan::TimeWindowKind::kHop && !panes_) {
      // Row i belongs to the windows starting at its pane, and the k - 1 before it.
      const int64_t k = size / spec_.slide_us;
      std::vector<int64_t> s2, e2;
      repeat.reserve(n * k);
      s2.reserve(n * k);
      e2.reserve(n * k);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = k - 1; j >= 0; --j) {
          repeat.push_back(static_cast<int32_t>(i));
          s2.push_back(start[i] - j * spec_.slide_us);
          e2.push_back(s2.back() + size);
        }
      }
      ARROW_ASSIGN_OR_RAISE(
          rb, TakeBatchRows(rb, repeat.data(), static_cast<int64_t>(repeat.size()),
                            ctx_->pool()));
      start = std::move(s2);
      end = std::move(e2);
    }
    const auto& type = schema_->field(schema_->num_fields() - 1)->type();
    ARROW_ASSIGN_OR_RAISE(auto s_arr, TimestampArray(start, type, ctx_->pool()));
    ARROW_ASSIGN_OR_RAISE(auto e_arr, TimestampArray(end, type, ctx_->pool()));
    arrow::ArrayVector columns = rb->columns();
    columns.push_back(std::move(s_arr));
    columns.push_back(std::move(e_arr));
    return out->Emit(
        Batch{arrow::RecordBatch::Make(schema_, rb->num_rows(), std::move(columns)),
              batch.seq});
  }

 private:
  ExecContext* ctx_;
  TimeWindowSpec spec_;
  int time_column_;
  bool panes_;
  std::shared_ptr<arrow::Schema> schema_;
};

// ---- the aggregate over windows ------------------------------------------------------

// Keyed state (state/state_backend.h): tumble and hop keep one accumulator table per
// pane (namespace "panes", the pane's start), one slot per key, and a timer per window
// still to fire (without a key: it fires for every key); sessions keep one table whose
// slots are the sessions, each with its window, and a timer per session at its end.
// The operator keeps indexes over that state only (each key's open sessions by start,
// the open sessions' starts), derived from the slots' keys and windows: restoring an
// operator from a snapshot (the checkpoint issue's) rebuilds them from there.
class WindowAggregateOp : public Operator {
 public:
  WindowAggregateOp(ExecContext* ctx, WindowAggregateFactory* factory, int worker)
      : ctx_(ctx),
        f_(factory),
        spec_(factory->spec()),
        reservation_(ctx->budget(), "WindowAggregate"),
        worker_(worker) {}

  Status Init() {
    ARROW_ASSIGN_OR_RAISE(backend_, MakeStateBackend(ctx_, worker_));
    const bool session = spec_.kind == plan::TimeWindowKind::kSession;
    for (const auto& a : f_->aggregates()) {
      ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
      if (spec_.kind != plan::TimeWindowKind::kTumble && !acc->PartialMerge()) {
        return Status::NotImplemented(
            a->name, a->distinct ? " (DISTINCT)" : "", " over ",
            plan::TimeWindowKindName(spec_.kind),
            " windows: only aggregates that merge (count, sum, avg, min, max, ...) can "
            "be computed over hopping and session windows so far");
      }
    }
    desc_.name = session ? "sessions" : "panes";
    for (const auto& k : f_->keys()) desc_.key_types.push_back(k->type);
    desc_.aggregates = f_->aggregates();
    desc_.slot_per_key = !session;
    merged_desc_ = desc_;
    merged_desc_.name = "window";
    if (session) {
      ARROW_ASSIGN_OR_RAISE(sessions_, backend_->Accumulators(desc_, 0));
      ARROW_ASSIGN_OR_RAISE(timers_, backend_->Timers("session ends", "sessions"));
    } else {
      ARROW_ASSIGN_OR_RAISE(timers_, backend_->Timers("window ends", ""));
    }
    return Status::OK();
  }

  Status ProcessBatch(Batch batch, Emitter* out) override {
    const auto& rb = *batch.data;
    const int64_t n = rb.num_rows();
    if (n == 0) return Status::OK();
    arrow::ArrayVector keys, args;
    for (const auto& k : f_->keys()) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, rb));
      keys.push_back(std::move(arr));
    }
    for (const auto& a : f_->aggregates()) {
      ARROW_ASSIGN_OR_RAISE(auto arg, AggregateArgument(*a, rb));
      args.push_back(std::move(arg));
    }
    const int64_t* start = rb.column(f_->pane_column())->data()->GetValues<int64_t>(1);
    if (f_->pane_offset() != 0) {
      panes_of_rows_.resize(n);
      for (int64_t i = 0; i < n; ++i) panes_of_rows_[i] = start[i] - f_->pane_offset();
      start = panes_of_rows_.data();
    }
    late_rows_.clear();
    if (spec_.kind == plan::TimeWindowKind::kSession) {
      ARROW_RETURN_NOT_OK(AddToSessions(keys, args, start, n));
    } else {
      if (ctx_->late_rows() != nullptr) {
        for (int64_t i = 0; i < n; ++i) {
          if (PaneLate(start[i])) late_rows_.push_back(static_cast<int32_t>(i));
        }
      }
      ARROW_RETURN_NOT_OK(AddToPanes(keys, args, start, n));
    }
    ARROW_RETURN_NOT_OK(
        WriteLateRows(ctx_, "WindowAggregate", watermark_, batch.data, late_rows_));
    return Account();
  }

  Status ProcessWatermark(Watermark wm, Emitter* out) override {
    if (wm <= watermark_) return Status::OK();
    watermark_ = wm;
    if (spec_.kind == plan::TimeWindowKind::kSession) {
      ARROW_RETURN_NOT_OK(FireSessions(out));
    } else {
      ARROW_RETURN_NOT_OK(FirePanes(out));
    }
    ARROW_RETURN_NOT_OK(Account());
    // Downstream, window_start is a time column like any other: hold the watermark
    // back to before the earliest window still to be emitted.
    const int64_t held = HeldWatermark(wm);
    if (held <= forwarded_) return Status::OK();
    forwarded_ = held;
    return out->EmitWatermark(held);
  }

 private:
  // The watermark passed on after `wm`: below the start of every window that may still
  // be emitted (those with a timer, and those rows not yet late could still open).
  int64_t HeldWatermark(int64_t wm) const {
    if (wm == kMaxWatermark) return wm;
    // The earliest event time a row may still have without being late.
    const int64_t t0 = SaturatingAdd(SaturatingAdd(wm, 1), -spec_.lateness_us);
    int64_t earliest;
    switch (spec_.kind) {
      case plan::TimeWindowKind::kTumble:
        earliest = FloorDiv(t0, spec_.size_us) * spec_.size_us;
        break;
      case plan::TimeWindowKind::kHop:
        earliest = FloorDiv(t0, spec_.slide_us) * spec_.slide_us - spec_.size_us +
                   spec_.slide_us;
        break;
      case plan::TimeWindowKind::kSession:
      default:
        earliest = SaturatingAdd(t0, 1 - spec_.gap_us);
        if (!open_starts_.empty()) earliest = std::min(earliest, *open_starts_.begin());
        return std::min(wm, SaturatingAdd(earliest, -1));
    }
    // Windows of one size fire in order of start: the next timer's is the earliest.
    Timer next;
    if (timers_->Peek(&next)) earliest = std::min(earliest, next.window.start);
    return std::min(wm, SaturatingAdd(earliest, -1));
  }

  // The watermark at which a window ending at `end` fires.
  int64_t FireAt(int64_t end) const {
    return SaturatingAdd(SaturatingAdd(end, -1), spec_.lateness_us);
  }

  // The last window a row of pane p belongs to ends at p + size (a hop's windows start
  // every slide; the last one containing p starts at p).
  bool PaneLate(int64_t pane) const {
    return FireAt(SaturatingAdd(pane, spec_.size_us)) <= watermark_;
  }

  Status AddToPanes(const arrow::ArrayVector& keys, const arrow::ArrayVector& args,
                    const int64_t* start, int64_t n) {
    bool one_pane = true;
    for (int64_t i = 1; i < n && one_pane; ++i) one_pane = start[i] == start[0];
    if (one_pane) return AddToPane(start[0], keys, args, n);
    // Rows of several panes: each pane's rows together, panes in order of time.
    std::map<int64_t, std::vector<int32_t>> rows;
    for (int64_t i = 0; i < n; ++i) rows[start[i]].push_back(static_cast<int32_t>(i));
    for (const auto& [pane, idx] : rows) {
      const int64_t m = static_cast<int64_t>(idx.size());
      if (PaneLate(pane)) {
        ctx_->progress().rows_late += m;
        continue;
      }
      arrow::ArrayVector k2, a2;
      for (const auto& k : keys) {
        ARROW_ASSIGN_OR_RAISE(auto t, TakeRows(k, idx.data(), m, ctx_->pool()));
        k2.push_back(std::move(t));
      }
      for (const auto& a : args) {
        if (!a) {
          a2.push_back(nullptr);
          continue;
        }
        ARROW_ASSIGN_OR_RAISE(auto t, TakeRows(a, idx.data(), m, ctx_->pool()));
        a2.push_back(std::move(t));
      }
      ARROW_RETURN_NOT_OK(AddToPane(pane, k2, a2, m));
    }
    return Status::OK();
  }

  Status AddToPane(int64_t pane, const arrow::ArrayVector& keys,
                   const arrow::ArrayVector& args, int64_t n) {
    if (PaneLate(pane)) {
      ctx_->progress().rows_late += n;
      return Status::OK();
    }
    ARROW_ASSIGN_OR_RAISE(KeyedAccumulators * table, backend_->Accumulators(desc_, pane));
    if (table->num_keys() == 0) {
      // A new pane: a timer for each window over it that has not fired (a hop row may
      // come after some of its windows fired; it still counts in the others).
      const bool hop = spec_.kind == plan::TimeWindowKind::kHop;
      const int64_t slide = hop ? spec_.slide_us : spec_.size_us;
      for (int64_t s = pane - spec_.size_us + slide; s <= pane; s += slide) {
        const int64_t e = SaturatingAdd(s, spec_.size_us);
        if (FireAt(e) > watermark_) {
          timers_->Register(Timer{FireAt(e), Timer::kNoKey, StateWindow{s, e}});
        }
      }
    }
    ids_.resize(n);
    ARROW_RETURN_NOT_OK(table->FindOrInsert(keys, n, ids_.data()));
    return table->Update(args, ids_.data(), n);
  }

  // Fires every window whose timer the watermark reached, in order: a tumble's pane is
  // its window; a hop window merges the panes it covers. A pane goes once its last
  // window (the one starting at the pane) has fired.
  Status FirePanes(Emitter* out) {
    fired_.clear();
    timers_->PopUpTo(watermark_, &fired_);
    for (const Timer& tm : fired_) {
      const int64_t s = tm.window.start;
      const int64_t e = tm.window.end;
      if (spec_.kind != plan::TimeWindowKind::kHop) {
        ARROW_ASSIGN_OR_RAISE(KeyedAccumulators * pane, backend_->Accumulators(desc_, s));
        ARROW_ASSIGN_OR_RAISE(auto aggs, pane->Consume());
        ARROW_RETURN_NOT_OK(EmitWindow(pane, aggs, s, e, out));
        backend_->DropNamespace(desc_.name, s);
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(KeyedAccumulators * merged,
                            backend_->Accumulators(merged_desc_, s));
      for (int64_t p : backend_->Namespaces(desc_.name)) {
        if (p >= e) break;
        if (p < s) continue;
        ARROW_ASSIGN_OR_RAISE(KeyedAccumulators * pane, backend_->Accumulators(desc_, p));
        ARROW_RETURN_NOT_OK(merged->MergeFrom(pane));
      }
      ARROW_ASSIGN_OR_RAISE(auto aggs, merged->Consume());
      ARROW_RETURN_NOT_OK(EmitWindow(merged, aggs, s, e, out));
      backend_->DropNamespace(merged_desc_.name, s);
      for (int64_t p : backend_->Namespaces(desc_.name)) {
        if (p > s) break;
        backend_->DropNamespace(desc_.name, p);
      }
    }
    return Status::OK();
  }

  // One window's groups (every key of `t`, with aggregates `aggs`) as output rows.
  Status EmitWindow(KeyedAccumulators* t, const arrow::ArrayVector& aggs, int64_t s,
                    int64_t e, Emitter* out) {
    const int64_t groups = t->num_keys();
    if (groups == 0) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(auto keys, t->KeyColumns(nullptr, 0));
    std::vector<int64_t> starts(groups, s), ends(groups, e);
    return EmitRows(keys, starts, ends, aggs, out);
  }

  Status EmitRows(arrow::ArrayVector keys, const std::vector<int64_t>& starts,
                  const std::vector<int64_t>& ends, const arrow::ArrayVector& aggs,
                  Emitter* out) {
    const auto& schema = f_->output_schema();
    const int64_t rows = static_cast<int64_t>(starts.size());
    arrow::ArrayVector columns;
    const auto& outs = f_->output_keys();
    for (size_t i = 0; i < outs.size(); ++i) {
      const auto& type = schema->field(static_cast<int>(i))->type();
      if (outs[i] == WindowAggregateFactory::kWindowStart ||
          outs[i] == WindowAggregateFactory::kWindowEnd) {
        const auto& v = outs[i] == WindowAggregateFactory::kWindowStart ? starts : ends;
        ARROW_ASSIGN_OR_RAISE(auto arr, TimestampArray(v, type, ctx_->pool()));
        columns.push_back(std::move(arr));
        continue;
      }
      ArrayPtr k = keys[outs[i]];
      if (!k->type()->Equals(*type)) {
        ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(k, type));
        k = d.make_array();
      }
      columns.push_back(std::move(k));
    }
    for (const auto& a : aggs) columns.push_back(a);
    auto batch = arrow::RecordBatch::Make(schema, rows, std::move(columns));
    const int64_t step = std::max<int64_t>(1, ctx_->batch_rows());
    for (int64_t off = 0; off < rows; off += step) {
      ARROW_RETURN_NOT_OK(out->Emit(Batch{batch->Slice(off, step), seq_++}));
    }
    return Status::OK();
  }

  // ---- sessions ----

  // One key's open sessions by start: disjoint, so their ends ascend too. (An ordered
  // map, not a vector: over a file whose rows are out of order a key holds many.)
  struct Session {
    int64_t end;  // last row's time + gap
    uint32_t slot;
  };
  using Sessions = std::map<int64_t, Session>;

  uint32_t Resolve(uint32_t g) const {
    auto it = forward_.find(g);
    while (it != forward_.end()) {
      g = it->second;
      it = forward_.find(g);
    }
    return g;
  }

  Timer SessionTimer(uint32_t key, int64_t start, int64_t end) const {
    return Timer{FireAt(end), key, StateWindow{start, end}};
  }

  Status AddToSessions(const arrow::ArrayVector& keys, const arrow::ArrayVector& args,
                       const int64_t* time, int64_t n) {
    ids_.resize(n);
    ARROW_RETURN_NOT_OK(sessions_->FindOrInsert(keys, n, ids_.data()));
    by_key_.resize(sessions_->num_keys());
    std::vector<uint32_t> slots(n);
    std::vector<int32_t> on_time;                       // rows not late, when some are
    std::vector<std::pair<uint32_t, uint32_t>> merges;  // (from, into) state merges
    forward_.clear();
    // Timers change once per batch, not per row: the sessions this batch touched lose
    // the timer they had before it, and those still open get one at their final end.
    touched_.clear();
    stale_.clear();
    touched_at_.resize(sessions_->num_slots() + n, -1);
    auto touch = [&](uint32_t slot, uint32_t key, int64_t start, int64_t end,
                     bool had_timer) {
      if (touched_at_[slot] == batch_stamp_) return;
      touched_at_[slot] = batch_stamp_;
      touched_.push_back(slot);
      if (had_timer) stale_.push_back(SessionTimer(key, start, end));
    };
    int64_t late = 0;
    const int64_t gap = spec_.gap_us;
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t key = ids_[i];
      const int64_t t = time[i];
      const int64_t t_end = SaturatingAdd(t, gap);
      Sessions& list = by_key_[key];
      // The sessions [t, t + gap) overlaps: from the last one starting before t_end
      // back while they end after t.
      auto last = list.lower_bound(t_end);
      auto first = last;
      while (first != list.begin() && std::prev(first)->second.end > t) --first;
      if (first == last) {
        if (FireAt(t_end) <= watermark_) {
          if (late++ == 0) {
            for (int64_t j = 0; j < i; ++j) on_time.push_back(static_cast<int32_t>(j));
          }
          slots[i] = KeyedAccumulators::kNoSlot;
          if (ctx_->late_rows() != nullptr) late_rows_.push_back(static_cast<int32_t>(i));
          continue;
        }
        ARROW_ASSIGN_OR_RAISE(const uint32_t s,
                              sessions_->AddSlot(key, StateWindow{t, t_end}));
        list.emplace_hint(last, t, Session{t_end, s});
        open_starts_.insert(t);
        touch(s, key, t, t_end, false);
        slots[i] = s;
        if (late > 0) on_time.push_back(static_cast<int32_t>(i));
        continue;
      }
      const uint32_t target = first->second.slot;
      const int64_t new_start = std::min(first->first, t);
      const int64_t new_end = std::max(std::prev(last)->second.end, t_end);
      const bool changed = new_start != first->first || new_end != first->second.end ||
                           std::next(first) != last;
      for (auto it = std::next(first); it != last; ++it) {
        merges.emplace_back(it->second.slot, target);
        forward_[it->second.slot] = target;
      }
      if (changed) {
        for (auto it = first; it != last; ++it) {
          open_starts_.erase(open_starts_.find(it->first));
          touch(it->second.slot, key, it->first, it->second.end, true);
        }
        list.erase(first, last);
        list.emplace(new_start, Session{new_end, target});
        open_starts_.insert(new_start);
        sessions_->SetWindow(target, StateWindow{new_start, new_end});
      }
      slots[i] = target;
      if (late > 0) on_time.push_back(static_cast<int32_t>(i));
    }
    ctx_->progress().rows_late += late;
    std::vector<uint32_t> from, into;
    for (const auto& [a, b] : merges) {
      from.push_back(a);
      into.push_back(Resolve(b));
    }
    ARROW_RETURN_NOT_OK(sessions_->MergeSlots(from.data(), into.data(),
                                              static_cast<int64_t>(from.size())));
    for (uint32_t s : from) sessions_->FreeSlot(s);
    for (const Timer& tm : stale_) timers_->Delete(tm);
    for (uint32_t s : touched_) {
      if (forward_.count(s) > 0) continue;  // merged into another session
      const StateWindow w = sessions_->window(s);
      timers_->Register(SessionTimer(sessions_->key_of(s), w.start, w.end));
    }
    ++batch_stamp_;
    if (late == 0) {
      for (auto& s : slots) s = Resolve(s);
      return sessions_->Update(args, slots.data(), n);
    }
    // Late rows update nothing: the others' arguments and slots only.
    const int64_t m = static_cast<int64_t>(on_time.size());
    std::vector<uint32_t> kept(m);
    for (int64_t j = 0; j < m; ++j) kept[j] = Resolve(slots[on_time[j]]);
    arrow::ArrayVector kept_args;
    for (const auto& a : args) {
      if (!a) {
        kept_args.push_back(nullptr);
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(auto t, TakeRows(a, on_time.data(), m, ctx_->pool()));
      kept_args.push_back(std::move(t));
    }
    return sessions_->Update(kept_args, kept.data(), m);
  }

  Status FireSessions(Emitter* out) {
    fired_.clear();
    timers_->PopUpTo(watermark_, &fired_);
    std::vector<uint32_t> keys, slots;
    std::vector<int64_t> starts, ends;
    for (const Timer& tm : fired_) {
      if (tm.key >= by_key_.size()) {
        return Status::Invalid("internal: a session timer of an unknown key");
      }
      Sessions& list = by_key_[tm.key];
      auto it = list.find(tm.window.start);
      if (it == list.end() || it->second.end != tm.window.end) {
        // Timers follow their sessions (deleted as a session grows or merges).
        return Status::Invalid("internal: a session timer without its session");
      }
      keys.push_back(tm.key);
      slots.push_back(it->second.slot);
      starts.push_back(it->first);
      ends.push_back(it->second.end);
      open_starts_.erase(open_starts_.find(it->first));
      list.erase(it);
    }
    if (!slots.empty()) {
      const int64_t m = static_cast<int64_t>(slots.size());
      ARROW_ASSIGN_OR_RAISE(auto key_cols, sessions_->KeyColumns(keys.data(), m));
      ARROW_ASSIGN_OR_RAISE(auto aggs, sessions_->Finalize(slots.data(), m));
      for (uint32_t s : slots) sessions_->FreeSlot(s);
      ARROW_RETURN_NOT_OK(EmitRows(key_cols, starts, ends, aggs, out));
    }
    const int64_t dead = sessions_->num_slots() - sessions_->live_slots();
    if (dead > 4096 && dead > sessions_->live_slots()) return CompactSessions();
    return Status::OK();
  }

  // Drops the fired and merged sessions' slots, and keys without sessions, from the
  // state; the indexes and timers follow the new ids.
  Status CompactSessions() {
    std::vector<uint32_t> key_map, slot_map;
    ARROW_RETURN_NOT_OK(sessions_->Compact(&key_map, &slot_map));
    timers_->RemapKeys(key_map);
    std::vector<Sessions> by_key(sessions_->num_keys());
    for (size_t k = 0; k < by_key_.size(); ++k) {
      if (by_key_[k].empty()) continue;
      Sessions& to = by_key[key_map[k]];
      for (const auto& [start, session] : by_key_[k]) {
        to.emplace_hint(to.end(), start, Session{session.end, slot_map[session.slot]});
      }
    }
    by_key_ = std::move(by_key);
    touched_at_.clear();  // by old slot ids; only the current batch's stamp matters
    return Status::OK();
  }

  Status Account() {
    int64_t usage = backend_->MemoryUsage();
    // A map node: the entry and about four words of tree links.
    usage += static_cast<int64_t>(by_key_.size()) * sizeof(Sessions) +
             static_cast<int64_t>(touched_at_.capacity() * sizeof(int64_t)) +
             (sessions_ ? sessions_->live_slots() : 0) *
                 static_cast<int64_t>(2 * (sizeof(Sessions::value_type) + 32));
    f_->metrics().RecordPeak(usage);
    return reservation_.Resize(usage);
  }

  ExecContext* ctx_;
  WindowAggregateFactory* f_;
  TimeWindowSpec spec_;
  MemoryReservation reservation_;
  int worker_;
  std::unique_ptr<StateBackend> backend_;
  AccumulatorsDesc desc_;
  AccumulatorsDesc merged_desc_;  // a hop window's merged panes, while it fires
  TimerService* timers_ = nullptr;
  Watermark watermark_ = std::numeric_limits<int64_t>::min();
  Watermark forwarded_ = std::numeric_limits<int64_t>::min();
  std::vector<uint32_t> ids_;
  std::vector<int64_t> panes_of_rows_;
  std::vector<int32_t> late_rows_;  // of the batch being added, for the late-data sink
  std::vector<Timer> fired_;
  int64_t seq_ = 0;
  // Sessions: the state's table, and indexes over it: each key's open sessions in
  // time order, the open sessions' starts.
  KeyedAccumulators* sessions_ = nullptr;
  std::vector<Sessions> by_key_;
  std::multiset<int64_t> open_starts_;
  std::unordered_map<uint32_t, uint32_t> forward_;  // merged slot -> its session's
  // The batch being added: the sessions it touched, the timers they had before it.
  std::vector<uint32_t> touched_;
  std::vector<Timer> stale_;
  std::vector<int64_t> touched_at_;  // by slot: the stamp of the last batch touching it
  int64_t batch_stamp_ = 0;
};

}  // namespace

TimeWindowFactory::TimeWindowFactory(TimeWindowSpec spec, int time_column, bool panes,
                                     std::shared_ptr<arrow::Schema> output_schema)
    : OperatorFactory("TimeWindow"),
      spec_(spec),
      time_column_(time_column),
      panes_(panes),
      output_schema_(std::move(output_schema)) {}

Result<std::unique_ptr<Operator>> TimeWindowFactory::Make(ExecContext* ctx, int worker) {
  return std::make_unique<TimeWindowOp>(ctx, spec_, time_column_, panes_, output_schema_);
}

WindowAggregateFactory::WindowAggregateFactory(
    TimeWindowSpec spec, int pane_column, int64_t pane_offset,
    std::vector<expr::Expr> keys, std::vector<int> output_keys,
    std::vector<expr::Expr> aggregates, std::shared_ptr<arrow::Schema> output_schema)
    : OperatorFactory("WindowAggregate"),
      spec_(spec),
      pane_column_(pane_column),
      pane_offset_(pane_offset),
      keys_(std::move(keys)),
      output_keys_(std::move(output_keys)),
      aggregates_(std::move(aggregates)),
      output_schema_(std::move(output_schema)) {}

Result<std::unique_ptr<Operator>> WindowAggregateFactory::Make(ExecContext* ctx,
                                                               int worker) {
  auto op = std::make_unique<WindowAggregateOp>(ctx, this, worker);
  ARROW_RETURN_NOT_OK(op->Init());
  return op;
}

}  // namespace sluice::exec
