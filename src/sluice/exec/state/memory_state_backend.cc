// The in-memory state backend (state_backend.h).
#include <arrow/array/concatenate.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <queue>
#include <set>
#include <unordered_map>

#include "sluice/base/memory.h"
#include "sluice/base/saturating.h"
#include "sluice/exec/key_index.h"
#include "sluice/exec/operators/aggregate_functions.h"
#include "sluice/exec/state/state_backend.h"
#include "sluice/exec/take_rows.h"

namespace sluice::exec {

bool Timer::operator<(const Timer& o) const {
  if (time != o.time) return time < o.time;
  if (key != o.key) return key < o.key;
  if (window.start != o.window.start) return window.start < o.window.start;
  return window.end < o.window.end;
}

bool Timer::operator==(const Timer& o) const {
  return time == o.time && key == o.key && window.start == o.window.start &&
         window.end == o.window.end;
}

namespace {

using ArrayPtr = std::shared_ptr<arrow::Array>;
using BatchPtr = std::shared_ptr<arrow::RecordBatch>;

template <typename Builder, typename T>
Result<ArrayPtr> BuildArray(const std::vector<T>& values, arrow::MemoryPool* pool) {
  Builder b(pool);
  ARROW_RETURN_NOT_OK(b.AppendValues(values));
  return b.Finish();
}

// The rows of `snapshot` whose key_group column (column 0, or `column`) is in `range`.
std::vector<int32_t> RowsInRange(const arrow::RecordBatch& snapshot, KeyGroupRange range,
                                 int column = 0) {
  const auto& groups = static_cast<const arrow::UInt16Array&>(*snapshot.column(column));
  std::vector<int32_t> rows;
  for (int64_t i = 0; i < groups.length(); ++i) {
    if (range.Contains(groups.Value(i))) rows.push_back(static_cast<int32_t>(i));
  }
  return rows;
}

Status CheckColumns(const arrow::RecordBatch& snapshot, int at_least,
                    std::string_view what) {
  if (snapshot.num_columns() < at_least) {
    return Status::Invalid("state snapshot of ", what, ": ", snapshot.num_columns(),
                           " columns, expected at least ", at_least);
  }
  return Status::OK();
}

// ---- accumulators -------------------------------------------------------------------

class MemoryAccumulators : public KeyedAccumulators {
 public:
  MemoryAccumulators(AccumulatorsDesc desc, arrow::MemoryPool* pool)
      : desc_(std::move(desc)), pool_(pool) {}

  Status Init() {
    if (!desc_.key_types.empty()) {
      ARROW_ASSIGN_OR_RAISE(index_, KeyIndex::Make(desc_.key_types));
    }
    ARROW_ASSIGN_OR_RAISE(accs_, NewAccumulators());
    return Status::OK();
  }

  Status FindOrInsert(const arrow::ArrayVector& keys, int64_t n,
                      uint32_t* key_ids) override {
    if (index_) {
      ARROW_RETURN_NOT_OK(index_->Insert(keys, KeyIndex::Nulls::kGroup, key_ids));
      keys_ = index_->size();
    } else {
      std::fill(key_ids, key_ids + n, 0);
      if (n > 0) keys_ = 1;
    }
    if (desc_.slot_per_key && keys_ > slots_) {
      live_ += keys_ - slots_;
      slots_ = keys_;
    }
    return Status::OK();
  }

  int64_t num_keys() const override { return keys_; }

  Result<arrow::ArrayVector> KeyColumns(const uint32_t* key_ids, int64_t n) override {
    if (!index_) return arrow::ArrayVector{};
    ARROW_ASSIGN_OR_RAISE(auto all, index_->KeyColumns(pool_));
    if (key_ids == nullptr) return all;
    arrow::ArrayVector taken;
    for (const auto& c : all) {
      ARROW_ASSIGN_OR_RAISE(
          auto t, TakeRows(c, reinterpret_cast<const int32_t*>(key_ids), n, pool_));
      taken.push_back(std::move(t));
    }
    return taken;
  }

  Result<uint32_t> AddSlot(uint32_t key, StateWindow w) override {
    if (desc_.slot_per_key) {
      return Status::Invalid("internal: AddSlot on one-slot-per-key state ", desc_.name);
    }
    slot_keys_.push_back(key);
    windows_.push_back(w);
    alive_.push_back(1);
    ++live_;
    return static_cast<uint32_t>(slots_++);
  }

  void FreeSlot(uint32_t slot) override {
    if (desc_.slot_per_key || !alive_[slot]) return;
    alive_[slot] = 0;
    --live_;
  }
  void SetWindow(uint32_t slot, StateWindow w) override {
    if (!desc_.slot_per_key) windows_[slot] = w;
  }
  StateWindow window(uint32_t slot) const override {
    return desc_.slot_per_key ? StateWindow{} : windows_[slot];
  }
  uint32_t key_of(uint32_t slot) const override {
    return desc_.slot_per_key ? slot : slot_keys_[slot];
  }
  int64_t num_slots() const override { return slots_; }
  int64_t live_slots() const override { return live_; }

  Status Update(const arrow::ArrayVector& args, const uint32_t* slots,
                int64_t n) override {
    for (size_t a = 0; a < accs_.size(); ++a) {
      ARROW_RETURN_NOT_OK(accs_[a]->Resize(slots_));
      ARROW_RETURN_NOT_OK(accs_[a]->Update(args[a], slots, n));
    }
    return Status::OK();
  }

  Status MergeSlots(const uint32_t* from, const uint32_t* to, int64_t n) override {
    if (n == 0) return Status::OK();
    for (auto& acc : accs_) {
      ARROW_RETURN_NOT_OK(acc->Resize(slots_));
      ARROW_RETURN_NOT_OK(acc->MergeSome(acc.get(), from, to, n));
    }
    return Status::OK();
  }

  Status MergeFrom(KeyedAccumulators* other_base) override {
    auto* other = static_cast<MemoryAccumulators*>(other_base);
    std::vector<uint32_t> mapping(other->slots_, 0);
    if (index_) {
      ARROW_RETURN_NOT_OK(index_->InsertAll(*other->index_, mapping.data()));
      keys_ = index_->size();
    } else {
      keys_ = std::max(keys_, other->keys_);
    }
    if (keys_ > slots_) {
      live_ += keys_ - slots_;
      slots_ = keys_;
    }
    for (size_t a = 0; a < accs_.size(); ++a) {
      ARROW_RETURN_NOT_OK(accs_[a]->Resize(slots_));
      ARROW_RETURN_NOT_OK(other->accs_[a]->Resize(other->slots_));
      ARROW_RETURN_NOT_OK(accs_[a]->Merge(other->accs_[a].get(), mapping.data()));
    }
    return Status::OK();
  }

  Result<arrow::ArrayVector> Finalize(const uint32_t* slots, int64_t n) override {
    std::vector<uint32_t> all;
    if (slots == nullptr) {
      all.resize(slots_);
      for (int64_t s = 0; s < slots_; ++s) all[s] = static_cast<uint32_t>(s);
      slots = all.data();
      n = slots_;
    }
    std::vector<uint32_t> to(n);
    for (int64_t j = 0; j < n; ++j) to[j] = static_cast<uint32_t>(j);
    arrow::ArrayVector out;
    for (auto& acc : accs_) {
      ARROW_RETURN_NOT_OK(acc->Resize(slots_));
      ARROW_ASSIGN_OR_RAISE(auto fresh, MakeAccumulator(*desc_.aggregates[out.size()]));
      ARROW_RETURN_NOT_OK(fresh->Resize(n));
      ARROW_RETURN_NOT_OK(fresh->MergeSome(acc.get(), slots, to.data(), n));
      ARROW_ASSIGN_OR_RAISE(auto v, fresh->Finalize());
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<arrow::ArrayVector> Consume() override {
    arrow::ArrayVector out;
    for (auto& acc : accs_) {
      ARROW_RETURN_NOT_OK(acc->Resize(slots_));
      ARROW_ASSIGN_OR_RAISE(auto v, acc->Finalize());
      out.push_back(std::move(v));
    }
    return out;
  }

  Status Compact(std::vector<uint32_t>* key_mapping,
                 std::vector<uint32_t>* slot_mapping) override {
    key_mapping->assign(keys_, kNoSlot);
    slot_mapping->assign(slots_, kNoSlot);
    std::vector<int32_t> live_keys;
    std::vector<uint8_t> key_live(keys_, desc_.slot_per_key ? 1 : 0);
    if (!desc_.slot_per_key) {
      for (int64_t s = 0; s < slots_; ++s) {
        if (alive_[s]) key_live[slot_keys_[s]] = 1;
      }
    }
    for (int64_t k = 0; k < keys_; ++k) {
      if (key_live[k]) {
        (*key_mapping)[k] = static_cast<uint32_t>(live_keys.size());
        live_keys.push_back(static_cast<int32_t>(k));
      }
    }
    std::unique_ptr<KeyIndex> index;
    const int64_t nk = static_cast<int64_t>(live_keys.size());
    if (index_) {
      ARROW_ASSIGN_OR_RAISE(index, index_->MakeEmpty());
      ARROW_ASSIGN_OR_RAISE(
          auto kept, KeyColumns(reinterpret_cast<const uint32_t*>(live_keys.data()), nk));
      std::vector<uint32_t> ids(nk);
      if (nk > 0) {
        ARROW_RETURN_NOT_OK(index->Insert(kept, KeyIndex::Nulls::kGroup, ids.data()));
      }
      for (int64_t j = 0; j < nk; ++j) (*key_mapping)[live_keys[j]] = ids[j];
    }
    std::vector<uint32_t> from, to;
    std::vector<uint32_t> slot_keys;
    std::vector<StateWindow> windows;
    for (int64_t s = 0; s < slots_; ++s) {
      const bool live = desc_.slot_per_key ? true : alive_[s] != 0;
      if (!live) continue;
      (*slot_mapping)[s] = static_cast<uint32_t>(from.size());
      to.push_back(static_cast<uint32_t>(from.size()));
      from.push_back(static_cast<uint32_t>(s));
      if (!desc_.slot_per_key) {
        slot_keys.push_back((*key_mapping)[slot_keys_[s]]);
        windows.push_back(windows_[s]);
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto fresh, NewAccumulators());
    const int64_t m = static_cast<int64_t>(from.size());
    for (size_t a = 0; a < fresh.size(); ++a) {
      ARROW_RETURN_NOT_OK(fresh[a]->Resize(m));
      ARROW_RETURN_NOT_OK(accs_[a]->Resize(slots_));
      ARROW_RETURN_NOT_OK(fresh[a]->MergeSome(accs_[a].get(), from.data(), to.data(), m));
    }
    index_ = std::move(index);
    accs_ = std::move(fresh);
    keys_ = nk;
    slots_ = m;
    live_ = m;
    slot_keys_ = std::move(slot_keys);
    windows_ = std::move(windows);
    alive_.assign(desc_.slot_per_key ? 0 : m, 1);
    return Status::OK();
  }

  int64_t MemoryUsage() const override {
    int64_t m = index_ ? index_->MemoryUsage() : 0;
    for (const auto& a : accs_) m += a->MemoryUsage();
    m += static_cast<int64_t>(slot_keys_.capacity() * sizeof(uint32_t) +
                              windows_.capacity() * sizeof(StateWindow) +
                              alive_.capacity());
    return m;
  }

  Result<BatchPtr> Snapshot(KeyGroupRange range) override {
    if (live_ == 0) return nullptr;
    ARROW_ASSIGN_OR_RAISE(auto keys, KeyColumns(nullptr, 0));
    std::vector<uint16_t> key_groups;
    ARROW_RETURN_NOT_OK(KeyGroupsOf(keys, keys_, &key_groups));
    std::vector<uint16_t> groups;
    std::vector<uint32_t> key_ids, slots;
    std::vector<int64_t> starts, ends;
    for (int64_t s = 0; s < slots_; ++s) {
      if (!desc_.slot_per_key && !alive_[s]) continue;
      const uint32_t k = key_of(static_cast<uint32_t>(s));
      if (!range.Contains(key_groups[k])) continue;
      groups.push_back(key_groups[k]);
      key_ids.push_back(k);
      slots.push_back(static_cast<uint32_t>(s));
      starts.push_back(window(static_cast<uint32_t>(s)).start);
      ends.push_back(window(static_cast<uint32_t>(s)).end);
    }
    const int64_t n = static_cast<int64_t>(slots.size());
    if (n == 0) return nullptr;
    arrow::FieldVector fields = {arrow::field("key_group", arrow::uint16()),
                                 arrow::field("key_id", arrow::uint32()),
                                 arrow::field("slot", arrow::uint32()),
                                 arrow::field("window_start", arrow::int64()),
                                 arrow::field("window_end", arrow::int64())};
    arrow::ArrayVector columns;
    ARROW_ASSIGN_OR_RAISE(auto c0, BuildArray<arrow::UInt16Builder>(groups, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c1, BuildArray<arrow::UInt32Builder>(key_ids, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c2, BuildArray<arrow::UInt32Builder>(slots, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c3, BuildArray<arrow::Int64Builder>(starts, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c4, BuildArray<arrow::Int64Builder>(ends, pool_));
    columns = {c0, c1, c2, c3, c4};
    for (size_t k = 0; k < keys.size(); ++k) {
      ARROW_ASSIGN_OR_RAISE(
          auto t,
          TakeRows(keys[k], reinterpret_cast<const int32_t*>(key_ids.data()), n, pool_));
      fields.push_back(arrow::field("k" + std::to_string(k), t->type()));
      columns.push_back(std::move(t));
    }
    for (size_t a = 0; a < accs_.size(); ++a) {
      ARROW_RETURN_NOT_OK(accs_[a]->Resize(slots_));
      ARROW_ASSIGN_OR_RAISE(auto st, accs_[a]->SaveState(slots.data(), n));
      fields.push_back(arrow::field("a" + std::to_string(a), st->type()));
      columns.push_back(std::move(st));
    }
    return arrow::RecordBatch::Make(arrow::schema(fields), n, std::move(columns));
  }

  Status Restore(const arrow::RecordBatch& snapshot, KeyGroupRange range,
                 std::vector<uint32_t>* key_mapping,
                 std::vector<uint32_t>* slot_mapping) override {
    const int nk = static_cast<int>(desc_.key_types.size());
    ARROW_RETURN_NOT_OK(
        CheckColumns(snapshot, 5 + nk + static_cast<int>(accs_.size()), desc_.name));
    std::vector<int32_t> rows = RowsInRange(snapshot, range);
    const int64_t n = static_cast<int64_t>(rows.size());
    ARROW_ASSIGN_OR_RAISE(auto batch,
                          TakeBatchRows(snapshot.Slice(0), rows.data(), n, pool_));
    const auto& old_keys = static_cast<const arrow::UInt32Array&>(*batch->column(1));
    const auto& old_slots = static_cast<const arrow::UInt32Array&>(*batch->column(2));
    const auto& starts = static_cast<const arrow::Int64Array&>(*batch->column(3));
    const auto& ends = static_cast<const arrow::Int64Array&>(*batch->column(4));
    auto grow = [](std::vector<uint32_t>* v, uint32_t at) {
      if (v->size() <= at) v->resize(at + 1, kNoSlot);
    };
    arrow::ArrayVector keys(batch->columns().begin() + 5,
                            batch->columns().begin() + 5 + nk);
    std::vector<uint32_t> ids(n), slots(n);
    ARROW_RETURN_NOT_OK(FindOrInsert(keys, n, ids.data()));
    for (int64_t i = 0; i < n; ++i) {
      if (desc_.slot_per_key) {
        slots[i] = ids[i];
      } else {
        ARROW_ASSIGN_OR_RAISE(
            slots[i], AddSlot(ids[i], StateWindow{starts.Value(i), ends.Value(i)}));
      }
      grow(key_mapping, old_keys.Value(i));
      (*key_mapping)[old_keys.Value(i)] = ids[i];
      grow(slot_mapping, old_slots.Value(i));
      (*slot_mapping)[old_slots.Value(i)] = slots[i];
    }
    for (size_t a = 0; a < accs_.size(); ++a) {
      ARROW_ASSIGN_OR_RAISE(auto loaded, MakeAccumulator(*desc_.aggregates[a]));
      ARROW_RETURN_NOT_OK(
          loaded->LoadState(*batch->column(5 + nk + static_cast<int>(a))));
      ARROW_RETURN_NOT_OK(accs_[a]->Resize(slots_));
      ARROW_RETURN_NOT_OK(accs_[a]->Merge(loaded.get(), slots.data()));
    }
    return Status::OK();
  }

 private:
  Result<std::vector<std::unique_ptr<GroupedAccumulator>>> NewAccumulators() const {
    std::vector<std::unique_ptr<GroupedAccumulator>> accs;
    for (const auto& a : desc_.aggregates) {
      ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
      accs.push_back(std::move(acc));
    }
    return accs;
  }

  AccumulatorsDesc desc_;
  arrow::MemoryPool* pool_;
  std::unique_ptr<KeyIndex> index_;  // null without key columns
  std::vector<std::unique_ptr<GroupedAccumulator>> accs_;
  int64_t keys_ = 0;
  int64_t slots_ = 0;
  int64_t live_ = 0;
  // Slots that are not one per key: each one's key, window and whether it is live.
  std::vector<uint32_t> slot_keys_;
  std::vector<StateWindow> windows_;
  std::vector<uint8_t> alive_;
};

// ---- rows ---------------------------------------------------------------------------

class MemoryRows : public KeyedRows {
 public:
  explicit MemoryRows(arrow::MemoryPool* pool) : pool_(pool) {}

  Status Add(BatchPtr batch, const EncodedRows& keys, const std::vector<int64_t>& time,
             const std::vector<uint8_t>& matched, const std::vector<int32_t>& rows,
             int64_t reach) override {
    if (rows.empty()) return Status::OK();  // nothing to keep (and nothing to free)
    Stored s;
    const uint64_t id = first_id_ + batches_.size();
    const int64_t n = batch->num_rows();
    s.batch = std::move(batch);
    s.reach = reach;
    s.key_offsets.assign(n + 1, 0);
    s.time.assign(n, 0);
    s.matched.assign(n, 0);
    s.alive.assign(n, 0);
    for (int32_t i : rows) s.alive[i] = 1;
    for (int64_t i = 0; i < n; ++i) {
      if (s.alive[i]) {
        const std::string_view k = keys.row(i);
        s.key_bytes.insert(s.key_bytes.end(), k.begin(), k.end());
        s.time[i] = time.empty() ? 0 : time[i];
        s.matched[i] = matched.empty() ? 0 : matched[i];
      }
      s.key_offsets[i + 1] = static_cast<uint32_t>(s.key_bytes.size());
    }
    s.live = static_cast<int64_t>(rows.size());
    s.bytes = BatchMemory(*s.batch) + static_cast<int64_t>(s.key_bytes.size()) +
              n * static_cast<int64_t>(sizeof(uint32_t) + sizeof(int64_t) + 2) +
              s.live * static_cast<int64_t>(sizeof(RowRef) * 3 + 16);
    bytes_ += s.bytes;
    batches_.push_back(std::move(s));
    Stored& st = batches_.back();
    for (int32_t i : rows) {
      const RowRef ref{id, static_cast<uint32_t>(i)};
      const std::string_view k = st.key(ref.row);
      auto it = index_.find(k);
      if (it == index_.end()) {
        it = index_.emplace(std::string(k), KeyRows{}).first;
        index_bytes_ += static_cast<int64_t>(k.size()) + kIndexEntryBytes;
      }
      it->second.refs.push_back(ref);
      ++it->second.live;
      if (reach != kForever) {
        expiry_.push(Expiry{SaturatingAdd(st.time[i], reach), ref});
      }
    }
    return Status::OK();
  }

  void Probe(const EncodedRows& keys, const uint8_t* usable, const int64_t* min_time,
             const int64_t* max_time, int64_t n,
             std::vector<Candidate>* out) const override {
    for (int64_t i = 0; i < n; ++i) {
      if (!usable[i]) continue;
      auto it = index_.find(keys.row(i));
      if (it == index_.end()) continue;
      const int64_t lo = min_time ? min_time[i] : std::numeric_limits<int64_t>::min();
      const int64_t hi = max_time ? max_time[i] : std::numeric_limits<int64_t>::max();
      for (const RowRef r : it->second.refs) {
        if (!alive(r)) continue;
        const int64_t t = at(r).time[r.row];
        if (t < lo || t > hi) continue;
        out->push_back(Candidate{static_cast<int32_t>(i), r, t});
      }
    }
  }

  const BatchPtr& batch_of(RowRef r) const override { return at(r).batch; }
  bool matched(RowRef r) const override { return at(r).matched[r.row] != 0; }
  void SetMatched(RowRef r) override { at(r).matched[r.row] = 1; }

  void Expire(int64_t watermark, std::vector<Gone>* gone) override {
    // Rows leaving, gathered by batch in order of their first leaving row.
    std::unordered_map<uint64_t, size_t> slot;
    auto leave = [&](RowRef r) {
      if (gone == nullptr) return;
      Stored& s = at(r);
      auto [it, fresh] = slot.emplace(r.batch, gone->size());
      if (fresh) gone->push_back(Gone{s.batch, {}, {}});
      Gone& g = (*gone)[it->second];
      g.rows.push_back(static_cast<int32_t>(r.row));
      g.matched.push_back(s.matched[r.row]);
    };
    const size_t first = gone ? gone->size() : 0;
    if (watermark == kForever) {
      for (uint64_t b = 0; b < batches_.size(); ++b) {
        Stored& s = batches_[b];
        if (s.batch == nullptr) continue;
        for (uint32_t r = 0; r < s.alive.size(); ++r) {
          if (s.alive[r]) leave(RowRef{first_id_ + b, r});
        }
      }
      first_id_ += batches_.size();
      batches_.clear();
      index_.clear();
      expiry_ = {};
      bytes_ = 0;
      index_bytes_ = 0;
      return;
    }
    while (!expiry_.empty() && expiry_.top().at <= watermark) {
      const RowRef ref = expiry_.top().ref;
      expiry_.pop();
      Stored& s = at(ref);
      if (s.batch == nullptr || !s.alive[ref.row]) continue;
      leave(ref);
      s.alive[ref.row] = 0;
      auto it = index_.find(s.key(ref.row));
      if (--it->second.live == 0) {
        index_bytes_ -= static_cast<int64_t>(it->first.size()) + kIndexEntryBytes;
        index_.erase(it);
      } else if (it->second.refs.size() > 2 * static_cast<size_t>(it->second.live) + 8) {
        auto& refs = it->second.refs;
        refs.erase(
            std::remove_if(refs.begin(), refs.end(), [&](RowRef r) { return !alive(r); }),
            refs.end());
      }
      if (--s.live == 0) {
        bytes_ -= s.bytes;
        s = Stored{};
      }
    }
    while (!batches_.empty() && batches_.front().batch == nullptr) {
      batches_.pop_front();
      ++first_id_;
    }
    // Each batch's rows in order (the heap gave them by time).
    for (size_t g = first; gone != nullptr && g < gone->size(); ++g) {
      Gone& x = (*gone)[g];
      std::vector<int32_t> order(x.rows.size());
      for (size_t j = 0; j < order.size(); ++j) order[j] = static_cast<int32_t>(j);
      std::sort(order.begin(), order.end(),
                [&](int32_t a, int32_t b) { return x.rows[a] < x.rows[b]; });
      std::vector<int32_t> rows(order.size());
      std::vector<uint8_t> matched(order.size());
      for (size_t j = 0; j < order.size(); ++j) {
        rows[j] = x.rows[order[j]];
        matched[j] = x.matched[order[j]];
      }
      x.rows = std::move(rows);
      x.matched = std::move(matched);
    }
  }

  int64_t MemoryUsage() const override {
    return bytes_ + index_bytes_ +
           static_cast<int64_t>(batches_.size() * sizeof(Stored) +
                                expiry_.size() * sizeof(Expiry));
  }

  Result<BatchPtr> Snapshot(KeyGroupRange range) override {
    BatchPtr out;
    std::vector<BatchPtr> parts;
    for (const Stored& s : batches_) {
      if (s.batch == nullptr) continue;
      std::vector<int32_t> rows;
      std::vector<uint16_t> groups;
      std::vector<std::string_view> keys;
      std::vector<int64_t> times, expires;
      std::vector<bool> matched;
      for (uint32_t r = 0; r < s.alive.size(); ++r) {
        if (!s.alive[r]) continue;
        const std::string_view k = s.key(r);
        // Without join keys every row is in group 0 (where the exchange sends it).
        const uint16_t g = k.empty() ? 0 : KeyGroupOfHash(HashBytes(k.data(), k.size()));
        if (!range.Contains(g)) continue;
        rows.push_back(static_cast<int32_t>(r));
        groups.push_back(g);
        keys.push_back(k);
        times.push_back(s.time[r]);
        expires.push_back(s.reach == kForever ? kForever
                                              : SaturatingAdd(s.time[r], s.reach));
        matched.push_back(s.matched[r] != 0);
      }
      if (rows.empty()) continue;
      const int64_t n = static_cast<int64_t>(rows.size());
      ARROW_ASSIGN_OR_RAISE(auto data, TakeBatchRows(s.batch, rows.data(), n, pool_));
      arrow::FieldVector fields = {arrow::field("key_group", arrow::uint16()),
                                   arrow::field("key", arrow::binary()),
                                   arrow::field("time", arrow::int64()),
                                   arrow::field("expires", arrow::int64()),
                                   arrow::field("matched", arrow::boolean())};
      arrow::ArrayVector columns;
      ARROW_ASSIGN_OR_RAISE(auto c0, BuildArray<arrow::UInt16Builder>(groups, pool_));
      arrow::BinaryBuilder kb(pool_);
      for (const auto& k : keys) ARROW_RETURN_NOT_OK(kb.Append(k.data(), k.size()));
      ARROW_ASSIGN_OR_RAISE(auto c1, kb.Finish());
      ARROW_ASSIGN_OR_RAISE(auto c2, BuildArray<arrow::Int64Builder>(times, pool_));
      ARROW_ASSIGN_OR_RAISE(auto c3, BuildArray<arrow::Int64Builder>(expires, pool_));
      arrow::BooleanBuilder mb(pool_);
      ARROW_RETURN_NOT_OK(mb.AppendValues(matched));
      ARROW_ASSIGN_OR_RAISE(auto c4, mb.Finish());
      columns = {c0, c1, c2, c3, c4};
      for (int c = 0; c < data->num_columns(); ++c) {
        fields.push_back(data->schema()->field(c));
        columns.push_back(data->column(c));
      }
      parts.push_back(
          arrow::RecordBatch::Make(arrow::schema(fields), n, std::move(columns)));
    }
    if (parts.empty()) return nullptr;
    if (parts.size() == 1) return parts[0];
    return arrow::ConcatenateRecordBatches(parts, pool_);
  }

  Status Restore(const arrow::RecordBatch& snapshot, KeyGroupRange range) override {
    ARROW_RETURN_NOT_OK(CheckColumns(snapshot, 5, "join rows"));
    std::vector<int32_t> rows = RowsInRange(snapshot, range);
    if (rows.empty()) return Status::OK();
    const int64_t n = static_cast<int64_t>(rows.size());
    ARROW_ASSIGN_OR_RAISE(auto batch,
                          TakeBatchRows(snapshot.Slice(0), rows.data(), n, pool_));
    const auto& keys = static_cast<const arrow::BinaryArray&>(*batch->column(1));
    const auto& times = static_cast<const arrow::Int64Array&>(*batch->column(2));
    const auto& expires = static_cast<const arrow::Int64Array&>(*batch->column(3));
    const auto& matched = static_cast<const arrow::BooleanArray&>(*batch->column(4));
    arrow::FieldVector fields(batch->schema()->fields().begin() + 5,
                              batch->schema()->fields().end());
    arrow::ArrayVector columns(batch->columns().begin() + 5, batch->columns().end());
    auto data = arrow::RecordBatch::Make(arrow::schema(fields), n, std::move(columns));
    // Rows kept with the same reach go in together (a side has one reach).
    std::map<int64_t, std::vector<int32_t>> by_reach;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t reach =
          expires.Value(i) == kForever ? kForever : expires.Value(i) - times.Value(i);
      by_reach[reach].push_back(static_cast<int32_t>(i));
    }
    EncodedRows enc;
    enc.offsets.push_back(0);
    std::vector<int64_t> time(n);
    std::vector<uint8_t> was_matched(n);
    for (int64_t i = 0; i < n; ++i) {
      const std::string_view k = keys.GetView(i);
      enc.bytes.insert(enc.bytes.end(), k.begin(), k.end());
      enc.offsets.push_back(static_cast<uint32_t>(enc.bytes.size()));
      time[i] = times.Value(i);
      was_matched[i] = matched.Value(i) ? 1 : 0;
    }
    if (by_reach.size() == 1) {
      std::vector<int32_t> all(n);
      for (int64_t i = 0; i < n; ++i) all[i] = static_cast<int32_t>(i);
      return Add(data, enc, time, was_matched, all, by_reach.begin()->first);
    }
    for (const auto& [reach, picked] : by_reach) {
      // Each group's rows in a batch of their own, so no batch is counted twice.
      const int64_t m = static_cast<int64_t>(picked.size());
      ARROW_ASSIGN_OR_RAISE(auto part, TakeBatchRows(data, picked.data(), m, pool_));
      EncodedRows part_keys;
      part_keys.offsets.push_back(0);
      std::vector<int64_t> part_time(m);
      std::vector<uint8_t> part_matched(m);
      std::vector<int32_t> rows(m);
      for (int64_t j = 0; j < m; ++j) {
        const std::string_view k = enc.row(picked[j]);
        part_keys.bytes.insert(part_keys.bytes.end(), k.begin(), k.end());
        part_keys.offsets.push_back(static_cast<uint32_t>(part_keys.bytes.size()));
        part_time[j] = time[picked[j]];
        part_matched[j] = was_matched[picked[j]];
        rows[j] = static_cast<int32_t>(j);
      }
      ARROW_RETURN_NOT_OK(Add(part, part_keys, part_time, part_matched, rows, reach));
    }
    return Status::OK();
  }

 private:
  struct Stored {
    BatchPtr batch;  // null once every row left
    std::vector<uint8_t> key_bytes;
    std::vector<uint32_t> key_offsets;
    std::vector<int64_t> time;
    std::vector<uint8_t> alive;
    std::vector<uint8_t> matched;
    int64_t reach = kForever;
    int64_t live = 0;
    int64_t bytes = 0;
    std::string_view key(uint32_t row) const {
      return std::string_view(
          reinterpret_cast<const char*>(key_bytes.data()) + key_offsets[row],
          key_offsets[row + 1] - key_offsets[row]);
    }
  };
  struct KeyRows {
    std::vector<RowRef> refs;
    uint32_t live = 0;
  };
  struct Expiry {
    int64_t at;
    RowRef ref;
    bool operator>(const Expiry& o) const { return at > o.at; }
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return HashBytes(s.data(), s.size()); }
  };

  Stored& at(RowRef r) { return batches_[r.batch - first_id_]; }
  const Stored& at(RowRef r) const { return batches_[r.batch - first_id_]; }
  // Key lists may still hold rows that left, of batches gone.
  bool alive(RowRef r) const {
    if (r.batch < first_id_) return false;
    const Stored& s = batches_[r.batch - first_id_];
    return s.batch != nullptr && s.alive[r.row] != 0;
  }

  arrow::MemoryPool* pool_;
  std::deque<Stored> batches_;
  uint64_t first_id_ = 0;  // id of batches_.front()
  std::unordered_map<std::string, KeyRows, KeyHash, std::equal_to<>> index_;
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiry_;
  int64_t bytes_ = 0;        // the stored batches'
  int64_t index_bytes_ = 0;  // the index's keys and entries
  // A hash node, its key string and its row list, roughly.
  static constexpr int64_t kIndexEntryBytes = 96;
};

// ---- timers -------------------------------------------------------------------------

class MemoryTimers : public TimerService {
 public:
  void Register(const Timer& t) override { timers_.insert(t); }
  void Delete(const Timer& t) override { timers_.erase(t); }
  void PopUpTo(int64_t watermark, std::vector<Timer>* fired) override {
    auto it = timers_.begin();
    while (it != timers_.end() && it->time <= watermark) {
      fired->push_back(*it);
      it = timers_.erase(it);
    }
  }
  int64_t NextTime() const override {
    return timers_.empty() ? kForever : timers_.begin()->time;
  }
  bool Peek(Timer* out) const override {
    if (timers_.empty()) return false;
    *out = *timers_.begin();
    return true;
  }
  int64_t size() const override { return static_cast<int64_t>(timers_.size()); }
  void RemapKeys(const std::vector<uint32_t>& mapping) override {
    std::set<Timer> remapped;
    for (Timer t : timers_) {
      if (t.key != Timer::kNoKey) {
        t.key = t.key < mapping.size() ? mapping[t.key] : KeyedAccumulators::kNoSlot;
        if (t.key == KeyedAccumulators::kNoSlot) continue;
      }
      remapped.insert(remapped.end(), t);
    }
    timers_ = std::move(remapped);
  }
  // A tree node: the timer and four words of links and colour.
  int64_t MemoryUsage() const override {
    return size() * static_cast<int64_t>(sizeof(Timer) + 32);
  }

  const std::set<Timer>& timers() const { return timers_; }

 private:
  std::set<Timer> timers_;
};

// ---- the backend --------------------------------------------------------------------

// Kinds of state in a snapshot's names.
constexpr std::string_view kAccPrefix = "accumulators/";
constexpr std::string_view kRowsPrefix = "rows/";
constexpr std::string_view kTimersPrefix = "timers/";
// A timer without a key belongs to every key group.
constexpr uint16_t kEveryGroup = 0xFFFF;

class MemoryStateBackend : public StateBackend {
 public:
  MemoryStateBackend(KeyGroupRange range, arrow::MemoryPool* pool)
      : range_(range), pool_(pool) {}

  KeyGroupRange key_groups() const override { return range_; }

  Result<KeyedAccumulators*> Accumulators(const AccumulatorsDesc& desc,
                                          int64_t ns) override {
    auto [it, fresh] = accs_.try_emplace(desc.name);
    if (fresh) it->second.desc = desc;
    auto& tables = it->second.tables;
    auto t = tables.find(ns);
    if (t == tables.end()) {
      auto table = std::make_unique<MemoryAccumulators>(it->second.desc, pool_);
      ARROW_RETURN_NOT_OK(table->Init());
      t = tables.emplace(ns, std::move(table)).first;
    }
    return t->second.get();
  }

  std::vector<int64_t> Namespaces(const std::string& name) const override {
    std::vector<int64_t> out;
    auto it = accs_.find(name);
    if (it == accs_.end()) return out;
    for (const auto& [ns, t] : it->second.tables) out.push_back(ns);
    return out;
  }

  void DropNamespace(const std::string& name, int64_t ns) override {
    auto it = accs_.find(name);
    if (it != accs_.end()) it->second.tables.erase(ns);
  }

  Result<KeyedRows*> Rows(const std::string& name) override {
    auto& rows = rows_[name];
    if (!rows) rows = std::make_unique<MemoryRows>(pool_);
    return rows.get();
  }

  Result<TimerService*> Timers(const std::string& name,
                               const std::string& keys_from) override {
    auto& t = timers_[name];
    if (!t.timers) {
      t.timers = std::make_unique<MemoryTimers>();
      t.keys_from = keys_from;
    }
    return t.timers.get();
  }

  int64_t MemoryUsage() const override {
    int64_t m = 0;
    for (const auto& [name, a] : accs_) {
      for (const auto& [ns, t] : a.tables) m += t->MemoryUsage();
    }
    for (const auto& [name, r] : rows_) m += r->MemoryUsage();
    for (const auto& [name, t] : timers_) m += t.timers->MemoryUsage();
    return m;
  }

  Result<StateSnapshot> Snapshot(KeyGroupRange range) override {
    StateSnapshot snap;
    snap.range = range;
    for (auto& [name, a] : accs_) {
      std::vector<BatchPtr> parts;
      for (auto& [ns, t] : a.tables) {
        ARROW_ASSIGN_OR_RAISE(auto part, t->Snapshot(range));
        if (!part) continue;
        ARROW_ASSIGN_OR_RAISE(auto ns_col,
                              BuildArray<arrow::Int64Builder>(
                                  std::vector<int64_t>(part->num_rows(), ns), pool_));
        ARROW_ASSIGN_OR_RAISE(
            part, part->AddColumn(part->num_columns(), "namespace", std::move(ns_col)));
        parts.push_back(std::move(part));
      }
      if (parts.empty()) continue;
      ARROW_ASSIGN_OR_RAISE(auto all, arrow::ConcatenateRecordBatches(parts, pool_));
      snap.states[std::string(kAccPrefix) + name] = std::move(all);
    }
    for (auto& [name, r] : rows_) {
      ARROW_ASSIGN_OR_RAISE(auto part, r->Snapshot(range));
      if (part) snap.states[std::string(kRowsPrefix) + name] = std::move(part);
    }
    for (auto& [name, t] : timers_) {
      ARROW_ASSIGN_OR_RAISE(auto part, SnapshotTimers(t, range));
      if (part) snap.states[std::string(kTimersPrefix) + name] = std::move(part);
    }
    return snap;
  }

  Status Restore(const StateSnapshot& snapshot) override {
    // Accumulators first: timers name their keys by the snapshot's key ids.
    std::map<std::string, std::vector<uint32_t>> key_mappings;
    for (const auto& [full, batch] : snapshot.states) {
      if (full.rfind(kAccPrefix, 0) != 0) continue;
      const std::string name = full.substr(kAccPrefix.size());
      auto it = accs_.find(name);
      if (it == accs_.end()) {
        return Status::Invalid("state snapshot: the operator has no accumulators '", name,
                               "'");
      }
      const auto& ns_col =
          static_cast<const arrow::Int64Array&>(*batch->column(batch->num_columns() - 1));
      // Only namespaces with entries of this backend's key groups come into being.
      std::map<int64_t, std::vector<int32_t>> by_ns;
      for (int32_t i : RowsInRange(*batch, range_)) by_ns[ns_col.Value(i)].push_back(i);
      for (const auto& [ns, rows] : by_ns) {
        ARROW_ASSIGN_OR_RAISE(
            auto part,
            TakeBatchRows(batch, rows.data(), static_cast<int64_t>(rows.size()), pool_));
        ARROW_ASSIGN_OR_RAISE(part, part->RemoveColumn(part->num_columns() - 1));
        ARROW_ASSIGN_OR_RAISE(KeyedAccumulators * table,
                              Accumulators(it->second.desc, ns));
        std::vector<uint32_t> slot_mapping, mapping;
        ARROW_RETURN_NOT_OK(table->Restore(*part, range_, &mapping, &slot_mapping));
        if (ns == 0) key_mappings[name] = std::move(mapping);
      }
    }
    for (const auto& [full, batch] : snapshot.states) {
      if (full.rfind(kRowsPrefix, 0) == 0) {
        ARROW_ASSIGN_OR_RAISE(KeyedRows * rows, Rows(full.substr(kRowsPrefix.size())));
        ARROW_RETURN_NOT_OK(rows->Restore(*batch, range_));
      } else if (full.rfind(kTimersPrefix, 0) == 0) {
        const std::string name = full.substr(kTimersPrefix.size());
        auto it = timers_.find(name);
        if (it == timers_.end()) {
          return Status::Invalid("state snapshot: the operator has no timers '", name,
                                 "'");
        }
        ARROW_RETURN_NOT_OK(
            RestoreTimers(&it->second, *batch, key_mappings[it->second.keys_from]));
      } else if (full.rfind(kAccPrefix, 0) != 0) {
        return Status::Invalid("state snapshot: unknown state '", full, "'");
      }
    }
    return Status::OK();
  }

 private:
  struct AccState {
    AccumulatorsDesc desc;
    std::map<int64_t, std::unique_ptr<MemoryAccumulators>> tables;
  };
  struct TimerState {
    std::string keys_from;
    std::unique_ptr<MemoryTimers> timers;
  };

  // Columns key_group (kEveryGroup for timers without a key), time, key_id,
  // window_start, window_end.
  Result<BatchPtr> SnapshotTimers(const TimerState& t, KeyGroupRange range) {
    if (t.timers->size() == 0) return nullptr;
    std::vector<uint16_t> key_groups;
    if (!t.keys_from.empty()) {
      auto it = accs_.find(t.keys_from);
      if (it != accs_.end() && it->second.tables.count(0)) {
        auto* keys = it->second.tables.at(0).get();
        ARROW_ASSIGN_OR_RAISE(auto cols, keys->KeyColumns(nullptr, 0));
        ARROW_RETURN_NOT_OK(KeyGroupsOf(cols, keys->num_keys(), &key_groups));
      }
    }
    std::vector<uint16_t> groups;
    std::vector<int64_t> times, starts, ends;
    std::vector<uint32_t> keys;
    for (const Timer& tm : t.timers->timers()) {
      uint16_t g = kEveryGroup;
      if (tm.key != Timer::kNoKey) {
        if (tm.key >= key_groups.size()) {
          return Status::Invalid("internal: timer of unknown key ", tm.key);
        }
        g = key_groups[tm.key];
        if (!range.Contains(g)) continue;
      }
      groups.push_back(g);
      times.push_back(tm.time);
      keys.push_back(tm.key);
      starts.push_back(tm.window.start);
      ends.push_back(tm.window.end);
    }
    if (groups.empty()) return nullptr;
    ARROW_ASSIGN_OR_RAISE(auto c0, BuildArray<arrow::UInt16Builder>(groups, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c1, BuildArray<arrow::Int64Builder>(times, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c2, BuildArray<arrow::UInt32Builder>(keys, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c3, BuildArray<arrow::Int64Builder>(starts, pool_));
    ARROW_ASSIGN_OR_RAISE(auto c4, BuildArray<arrow::Int64Builder>(ends, pool_));
    auto schema = arrow::schema({arrow::field("key_group", arrow::uint16()),
                                 arrow::field("time", arrow::int64()),
                                 arrow::field("key_id", arrow::uint32()),
                                 arrow::field("window_start", arrow::int64()),
                                 arrow::field("window_end", arrow::int64())});
    return arrow::RecordBatch::Make(schema, static_cast<int64_t>(groups.size()),
                                    {c0, c1, c2, c3, c4});
  }

  static Status RestoreTimers(TimerState* t, const arrow::RecordBatch& batch,
                              const std::vector<uint32_t>& key_mapping) {
    ARROW_RETURN_NOT_OK(CheckColumns(batch, 5, "timers"));
    const auto& groups = static_cast<const arrow::UInt16Array&>(*batch.column(0));
    const auto& times = static_cast<const arrow::Int64Array&>(*batch.column(1));
    const auto& keys = static_cast<const arrow::UInt32Array&>(*batch.column(2));
    const auto& starts = static_cast<const arrow::Int64Array&>(*batch.column(3));
    const auto& ends = static_cast<const arrow::Int64Array&>(*batch.column(4));
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      Timer tm{times.Value(i), keys.Value(i),
               StateWindow{starts.Value(i), ends.Value(i)}};
      if (groups.Value(i) != kEveryGroup) {
        // A keyed timer comes back when its key did (in this backend's groups).
        if (tm.key >= key_mapping.size() ||
            key_mapping[tm.key] == KeyedAccumulators::kNoSlot) {
          continue;
        }
        tm.key = key_mapping[tm.key];
      }
      t->timers->Register(tm);
    }
    return Status::OK();
  }

  KeyGroupRange range_;
  arrow::MemoryPool* pool_;
  std::map<std::string, AccState> accs_;
  std::map<std::string, std::unique_ptr<MemoryRows>> rows_;
  std::map<std::string, TimerState> timers_;
};

}  // namespace

std::unique_ptr<StateBackend> MakeMemoryStateBackend(KeyGroupRange range,
                                                     arrow::MemoryPool* pool) {
  return std::make_unique<MemoryStateBackend>(range, pool);
}

Result<std::unique_ptr<StateBackend>> MakeStateBackend(ExecContext* ctx, int64_t worker) {
  const int workers = std::max(1, ctx->threads());
  if (worker < 0 || worker >= workers) {
    return Status::Invalid("internal: keyed state for worker ", worker, " of ", workers);
  }
  return MakeMemoryStateBackend(
      KeyGroupRange::OfWorker(static_cast<int>(worker), workers), ctx->pool());
}

}  // namespace sluice::exec
