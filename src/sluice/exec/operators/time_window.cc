#include "sluice/exec/operators/time_window.h"

#include <arrow/compute/api.h>

#include <algorithm>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

#include "sluice/base/memory.h"
#include "sluice/exec/key_index.h"
#include "sluice/exec/late_rows.h"
#include "sluice/exec/operators/aggregate_functions.h"
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

// Keys and accumulators of some groups: one pane's, or all sessions'.
struct GroupTable {
  std::unique_ptr<KeyIndex> index;  // null without keys
  Accumulators accs;
  int64_t groups = 0;
  int64_t MemoryUsage() const {
    int64_t m = index ? index->MemoryUsage() : 0;
    for (const auto& a : accs) m += a->MemoryUsage();
    return m;
  }
};

class WindowAggregateOp : public Operator {
 public:
  WindowAggregateOp(ExecContext* ctx, WindowAggregateFactory* factory)
      : ctx_(ctx),
        f_(factory),
        spec_(factory->spec()),
        reservation_(ctx->budget(), "WindowAggregate") {}

  Status Init() {
    for (const auto& k : f_->keys()) key_types_.push_back(k->type);
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
    if (spec_.kind == plan::TimeWindowKind::kSession) {
      ARROW_ASSIGN_OR_RAISE(sessions_, NewTable());
      // Group 0 takes late rows' updates and is never read.
      sessions_.groups = 1;
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
  // be emitted (open ones, and those rows not yet late could still open).
  int64_t HeldWatermark(int64_t wm) const {
    if (wm == kMaxWatermark) return wm;
    // The earliest event time a row may still have without being late.
    const int64_t t0 = SaturatingAdd(SaturatingAdd(wm, 1), -spec_.lateness_us);
    int64_t earliest;
    switch (spec_.kind) {
      case plan::TimeWindowKind::kTumble:
        earliest = FloorDiv(t0, spec_.size_us) * spec_.size_us;
        if (!panes_.empty()) earliest = std::min(earliest, panes_.begin()->first);
        break;
      case plan::TimeWindowKind::kHop: {
        earliest = FloorDiv(t0, spec_.slide_us) * spec_.slide_us - spec_.size_us +
                   spec_.slide_us;
        if (!panes_.empty()) {
          int64_t open = panes_.begin()->first - spec_.size_us + spec_.slide_us;
          if (next_start_set_) open = std::max(open, next_start_);
          earliest = std::min(earliest, open);
        }
        break;
      }
      case plan::TimeWindowKind::kSession:
      default:
        earliest = SaturatingAdd(t0, 1 - spec_.gap_us);
        if (!open_starts_.empty()) earliest = std::min(earliest, *open_starts_.begin());
        break;
    }
    return std::min(wm, SaturatingAdd(earliest, -1));
  }

  // The watermark at which a window ending at `end` fires.
  int64_t FireAt(int64_t end) const {
    return SaturatingAdd(SaturatingAdd(end, -1), spec_.lateness_us);
  }

  Result<GroupTable> NewTable() {
    GroupTable t;
    if (!key_types_.empty()) {
      ARROW_ASSIGN_OR_RAISE(t.index, KeyIndex::Make(key_types_));
    }
    for (const auto& a : f_->aggregates()) {
      ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
      t.accs.push_back(std::move(acc));
    }
    return t;
  }

  // Adds rows (all of `keys`/`args`, or those `rows` picks) to table t.
  Status AddRows(GroupTable* t, const arrow::ArrayVector& keys,
                 const arrow::ArrayVector& args, int64_t n) {
    ids_.resize(n);
    if (t->index) {
      ARROW_RETURN_NOT_OK(t->index->Insert(keys, KeyIndex::Nulls::kGroup, ids_.data()));
      t->groups = t->index->size();
    } else {
      std::fill(ids_.begin(), ids_.end(), 0);
      t->groups = 1;
    }
    for (size_t a = 0; a < t->accs.size(); ++a) {
      ARROW_RETURN_NOT_OK(t->accs[a]->Resize(t->groups));
      ARROW_RETURN_NOT_OK(t->accs[a]->Update(args[a], ids_.data(), n));
    }
    return Status::OK();
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
    auto it = panes_.find(pane);
    if (it == panes_.end()) {
      ARROW_ASSIGN_OR_RAISE(auto t, NewTable());
      it = panes_.emplace(pane, std::move(t)).first;
    }
    return AddRows(&it->second, keys, args, n);
  }

  // Fires every window the watermark has passed: a tumble's pane is its window; a hop
  // window merges the panes it covers.
  Status FirePanes(Emitter* out) {
    const int64_t size = spec_.size_us;
    const bool hop = spec_.kind == plan::TimeWindowKind::kHop;
    const int64_t slide = hop ? spec_.slide_us : size;
    while (!panes_.empty()) {
      const int64_t first = panes_.begin()->first;
      // The earliest window not fired yet that holds a pane.
      int64_t s = first - size + slide;
      if (next_start_set_) s = std::max(s, next_start_);
      if (FireAt(SaturatingAdd(s, size)) > watermark_) break;
      if (!hop) {
        ARROW_RETURN_NOT_OK(EmitWindow(&panes_.begin()->second, s, s + size, out));
      } else {
        ARROW_ASSIGN_OR_RAISE(GroupTable merged, NewTable());
        for (auto it = panes_.begin(); it != panes_.end() && it->first < s + size; ++it) {
          ARROW_RETURN_NOT_OK(MergeInto(&merged, &it->second));
        }
        ARROW_RETURN_NOT_OK(EmitWindow(&merged, s, s + size, out));
      }
      next_start_ = s + slide;
      next_start_set_ = true;
      // Panes whose last window fired go.
      while (!panes_.empty() && panes_.begin()->first < next_start_) {
        panes_.erase(panes_.begin());
      }
    }
    return Status::OK();
  }

  // Adds every group of `from` into `into` (from's accumulators stay intact:
  // decomposable ones merge without changing their source).
  Status MergeInto(GroupTable* into, GroupTable* from) {
    std::vector<uint32_t> mapping(from->groups);
    if (into->index) {
      ARROW_RETURN_NOT_OK(into->index->InsertAll(*from->index, mapping.data()));
      into->groups = into->index->size();
    } else {
      std::fill(mapping.begin(), mapping.end(), 0);
      into->groups = std::max<int64_t>(into->groups, from->groups);
    }
    for (size_t a = 0; a < into->accs.size(); ++a) {
      ARROW_RETURN_NOT_OK(into->accs[a]->Resize(into->groups));
      ARROW_RETURN_NOT_OK(into->accs[a]->Merge(from->accs[a].get(), mapping.data()));
    }
    return Status::OK();
  }

  // One window's groups as output rows.
  Status EmitWindow(GroupTable* t, int64_t s, int64_t e, Emitter* out) {
    if (t->groups == 0) return Status::OK();
    arrow::ArrayVector keys;
    if (t->index) {
      ARROW_ASSIGN_OR_RAISE(keys, t->index->KeyColumns(ctx_->pool()));
    }
    arrow::ArrayVector aggs;
    for (auto& acc : t->accs) {
      ARROW_ASSIGN_OR_RAISE(auto v, acc->Finalize());
      aggs.push_back(std::move(v));
    }
    std::vector<int64_t> starts(t->groups, s), ends(t->groups, e);
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
    uint32_t group;
  };
  using Sessions = std::map<int64_t, Session>;
  struct Timer {
    int64_t end;
    uint32_t key;
    int64_t start;
    bool operator>(const Timer& o) const { return end > o.end; }
  };

  uint32_t Resolve(uint32_t g) const {
    auto it = forward_.find(g);
    while (it != forward_.end()) {
      g = it->second;
      it = forward_.find(g);
    }
    return g;
  }

  Status AddToSessions(const arrow::ArrayVector& keys, const arrow::ArrayVector& args,
                       const int64_t* time, int64_t n) {
    ids_.resize(n);
    if (sessions_.index) {
      ARROW_RETURN_NOT_OK(
          sessions_.index->Insert(keys, KeyIndex::Nulls::kGroup, ids_.data()));
      by_key_.resize(sessions_.index->size());
    } else {
      std::fill(ids_.begin(), ids_.end(), 0);
      by_key_.resize(1);
    }
    std::vector<uint32_t> groups(n);
    std::vector<std::pair<uint32_t, uint32_t>> merges;  // (from, into) state merges
    forward_.clear();
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
          ++late;
          groups[i] = 0;
          if (ctx_->late_rows() != nullptr) late_rows_.push_back(static_cast<int32_t>(i));
          continue;
        }
        const uint32_t g = static_cast<uint32_t>(sessions_.groups++);
        list.emplace_hint(last, t, Session{t_end, g});
        open_starts_.insert(t);
        timers_.push(Timer{t_end, key, t});
        ++live_groups_;
        groups[i] = g;
        continue;
      }
      const uint32_t target = first->second.group;
      const int64_t new_start = std::min(first->first, t);
      const int64_t new_end = std::max(std::prev(last)->second.end, t_end);
      const bool changed = new_start != first->first || new_end != first->second.end ||
                           std::next(first) != last;
      for (auto it = std::next(first); it != last; ++it) {
        merges.emplace_back(it->second.group, target);
        forward_[it->second.group] = target;
        --live_groups_;
        ++dead_groups_;
      }
      if (changed) {
        for (auto it = first; it != last; ++it) {
          open_starts_.erase(open_starts_.find(it->first));
        }
        list.erase(first, last);
        list.emplace(new_start, Session{new_end, target});
        open_starts_.insert(new_start);
        timers_.push(Timer{new_end, key, new_start});
      }
      groups[i] = target;
    }
    ctx_->progress().rows_late += late;
    for (auto& g : groups) g = Resolve(g);
    std::vector<uint32_t> from, into;
    for (const auto& [a, b] : merges) {
      from.push_back(a);
      into.push_back(Resolve(b));
    }
    for (size_t a = 0; a < sessions_.accs.size(); ++a) {
      auto* acc = sessions_.accs[a].get();
      ARROW_RETURN_NOT_OK(acc->Resize(sessions_.groups));
      if (!from.empty()) {
        ARROW_RETURN_NOT_OK(acc->MergeSome(acc, from.data(), into.data(),
                                           static_cast<int64_t>(from.size())));
      }
      ARROW_RETURN_NOT_OK(acc->Update(args[a], groups.data(), n));
    }
    return Status::OK();
  }

  Status FireSessions(Emitter* out) {
    std::vector<uint32_t> keys, groups;
    std::vector<int64_t> starts, ends;
    while (!timers_.empty() && FireAt(timers_.top().end) <= watermark_) {
      Timer tm = timers_.top();
      timers_.pop();
      Sessions& list = by_key_[tm.key];
      auto it = list.find(tm.start);
      if (it == list.end() || it->second.end != tm.end) {
        continue;  // the session grew or merged since
      }
      keys.push_back(tm.key);
      groups.push_back(it->second.group);
      starts.push_back(it->first);
      ends.push_back(it->second.end);
      open_starts_.erase(open_starts_.find(it->first));
      list.erase(it);
      --live_groups_;
      ++dead_groups_;
    }
    if (!groups.empty()) {
      const int64_t m = static_cast<int64_t>(groups.size());
      arrow::ArrayVector key_cols;
      if (sessions_.index) {
        ARROW_ASSIGN_OR_RAISE(auto all, sessions_.index->KeyColumns(ctx_->pool()));
        for (const auto& c : all) {
          ARROW_ASSIGN_OR_RAISE(
              auto t, TakeRows(c, reinterpret_cast<const int32_t*>(keys.data()), m,
                               ctx_->pool()));
          key_cols.push_back(std::move(t));
        }
      }
      std::vector<uint32_t> to(m);
      for (int64_t j = 0; j < m; ++j) to[j] = static_cast<uint32_t>(j);
      arrow::ArrayVector aggs;
      for (const auto& a : f_->aggregates()) {
        ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
        ARROW_RETURN_NOT_OK(acc->Resize(m));
        size_t idx = aggs.size();
        ARROW_RETURN_NOT_OK(
            acc->MergeSome(sessions_.accs[idx].get(), groups.data(), to.data(), m));
        ARROW_ASSIGN_OR_RAISE(auto v, acc->Finalize());
        aggs.push_back(std::move(v));
      }
      ARROW_RETURN_NOT_OK(EmitRows(key_cols, starts, ends, aggs, out));
    }
    if (dead_groups_ > 4096 && dead_groups_ > live_groups_) return CompactSessions();
    return Status::OK();
  }

  // Rebuilds the sessions' keys and accumulators from the live sessions only (fired and
  // merged ones leave their groups, and keys without sessions, behind).
  Status CompactSessions() {
    ARROW_ASSIGN_OR_RAISE(GroupTable fresh, NewTable());
    fresh.groups = 1;
    std::vector<int32_t> live_keys;
    for (size_t k = 0; k < by_key_.size(); ++k) {
      if (!by_key_[k].empty()) live_keys.push_back(static_cast<int32_t>(k));
    }
    const int64_t nk = static_cast<int64_t>(live_keys.size());
    std::vector<Sessions> by_key(sessions_.index ? nk : by_key_.size());
    std::vector<uint32_t> new_key(by_key_.size(), 0);
    if (sessions_.index) {
      ARROW_ASSIGN_OR_RAISE(auto all, sessions_.index->KeyColumns(ctx_->pool()));
      arrow::ArrayVector kept;
      for (const auto& c : all) {
        ARROW_ASSIGN_OR_RAISE(auto t, TakeRows(c, live_keys.data(), nk, ctx_->pool()));
        kept.push_back(std::move(t));
      }
      std::vector<uint32_t> ids(nk);
      if (nk > 0) {
        ARROW_RETURN_NOT_OK(
            fresh.index->Insert(kept, KeyIndex::Nulls::kGroup, ids.data()));
      }
      for (int64_t j = 0; j < nk; ++j) new_key[live_keys[j]] = ids[j];
    }
    std::vector<uint32_t> from, to;
    timers_ = {};
    for (size_t k = 0; k < by_key_.size(); ++k) {
      for (auto [start, session] : by_key_[k]) {
        from.push_back(session.group);
        session.group = static_cast<uint32_t>(fresh.groups++);
        to.push_back(session.group);
        by_key[new_key[k]].emplace_hint(by_key[new_key[k]].end(), start, session);
        timers_.push(Timer{session.end, new_key[k], start});
      }
    }
    for (size_t a = 0; a < fresh.accs.size(); ++a) {
      ARROW_RETURN_NOT_OK(fresh.accs[a]->Resize(fresh.groups));
      ARROW_RETURN_NOT_OK(fresh.accs[a]->MergeSome(sessions_.accs[a].get(), from.data(),
                                                   to.data(),
                                                   static_cast<int64_t>(from.size())));
    }
    sessions_ = std::move(fresh);
    by_key_ = std::move(by_key);
    dead_groups_ = 0;
    return Status::OK();
  }

  Status Account() {
    int64_t usage = sessions_.MemoryUsage();
    for (const auto& [p, t] : panes_) usage += t.MemoryUsage();
    // A map node: the entry and about four words of tree links.
    usage += static_cast<int64_t>(by_key_.size()) * sizeof(Sessions) +
             live_groups_ * static_cast<int64_t>(sizeof(Sessions::value_type) + 32) +
             static_cast<int64_t>(timers_.size()) * sizeof(Timer);
    f_->metrics().RecordPeak(usage);
    return reservation_.Resize(usage);
  }

  ExecContext* ctx_;
  WindowAggregateFactory* f_;
  TimeWindowSpec spec_;
  MemoryReservation reservation_;
  std::vector<std::shared_ptr<arrow::DataType>> key_types_;
  Watermark watermark_ = std::numeric_limits<int64_t>::min();
  Watermark forwarded_ = std::numeric_limits<int64_t>::min();
  std::multiset<int64_t> open_starts_;  // sessions: the starts of the open ones
  std::vector<uint32_t> ids_;
  std::vector<int64_t> panes_of_rows_;
  std::vector<int32_t> late_rows_;  // of the batch being added, for the late-data sink
  int64_t seq_ = 0;
  // Tumble and hop: the open panes by start; the next hop window to fire.
  std::map<int64_t, GroupTable> panes_;
  int64_t next_start_ = 0;
  bool next_start_set_ = false;
  // Sessions: one group table for all keys, each key's open sessions in time order.
  GroupTable sessions_;
  std::vector<Sessions> by_key_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::unordered_map<uint32_t, uint32_t> forward_;  // merged group -> its session's
  int64_t live_groups_ = 0;
  int64_t dead_groups_ = 0;
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
  auto op = std::make_unique<WindowAggregateOp>(ctx, this);
  ARROW_RETURN_NOT_OK(op->Init());
  return op;
}

}  // namespace sluice::exec
