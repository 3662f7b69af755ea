#include "sluice/exec/state/state_backend.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "sluice/exec/scannable.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::exec {
namespace {

using ArrayPtr = std::shared_ptr<arrow::Array>;

// Aggregates count(*), sum(v), min(v) over input (k utf8, v int64).
AccumulatorsDesc Desc(bool slot_per_key, std::string name = "agg") {
  auto schema = arrow::schema(
      {arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int64())});
  auto table = arrow::Table::Make(
      schema,
      arrow::ChunkedArrayVector{
          std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{}, arrow::utf8()),
          std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{}, arrow::int64())});
  auto scan = plan::MakeScan(std::make_shared<InMemoryTable>(table, "t"));
  auto agg = plan::MakeAggregate(scan, {expr::Column("k")},
                                 {expr::Aggregate("count_star", {}),
                                  expr::Aggregate("sum", {expr::Column("v")}),
                                  expr::Aggregate("min", {expr::Column("v")})})
                 .ValueOrDie();
  const auto& a = static_cast<const plan::AggregateNode&>(*agg);
  AccumulatorsDesc d;
  d.name = std::move(name);
  d.key_types = {arrow::utf8()};
  d.aggregates = a.aggregates;
  d.slot_per_key = slot_per_key;
  return d;
}

ArrayPtr Strings(const std::vector<std::string>& v) {
  arrow::StringBuilder b;
  EXPECT_TRUE(b.AppendValues(v).ok());
  return b.Finish().ValueOrDie();
}
ArrayPtr Ints(const std::vector<int64_t>& v) {
  arrow::Int64Builder b;
  EXPECT_TRUE(b.AppendValues(v).ok());
  return b.Finish().ValueOrDie();
}

struct Agg {
  int64_t n = 0, sum = 0, min = INT64_MAX;
  void Add(int64_t v) {
    ++n;
    sum += v;
    min = std::min(min, v);
  }
  void Merge(const Agg& o) {
    n += o.n;
    sum += o.sum;
    min = std::min(min, o.min);
  }
  bool operator==(const Agg& o) const { return n == o.n && sum == o.sum && min == o.min; }
};

// key -> aggregates of every slot per key table (namespace `ns`) of `backend`.
std::map<std::string, Agg> Read(StateBackend* backend, const AccumulatorsDesc& desc,
                                int64_t ns) {
  KeyedAccumulators* t = backend->Accumulators(desc, ns).ValueOrDie();
  std::map<std::string, Agg> out;
  if (t->num_keys() == 0) return out;
  auto keys = t->KeyColumns(nullptr, 0).ValueOrDie();
  auto values = t->Finalize(nullptr, 0).ValueOrDie();
  const auto& k = static_cast<const arrow::StringArray&>(*keys[0]);
  const auto& n = static_cast<const arrow::Int64Array&>(*values[0]);
  const auto& s = static_cast<const arrow::Int64Array&>(*values[1]);
  const auto& m = static_cast<const arrow::Int64Array&>(*values[2]);
  for (int64_t i = 0; i < k.length(); ++i) {
    out[k.GetString(i)] = Agg{n.Value(i), s.Value(i), m.Value(i)};
  }
  return out;
}

uint16_t GroupOf(const std::string& key) {
  std::vector<uint16_t> g;
  EXPECT_TRUE(KeyGroupsOf({Strings({key})}, 1, &g).ok());
  return g[0];
}

TEST(KeyGroups, WorkerRangesCoverEveryGroupOnceAndFollowTheExchange) {
  for (int n = 1; n <= 9; ++n) {
    int next = 0;
    for (int w = 0; w < n; ++w) {
      KeyGroupRange r = KeyGroupRange::OfWorker(w, n);
      EXPECT_EQ(r.begin, next);
      next = r.end;
      for (int g = r.begin; g < r.end; ++g) EXPECT_EQ(g * n / kKeyGroups, w);
    }
    EXPECT_EQ(next, kKeyGroups);
  }
}

TEST(KeyGroups, StoredKeysHashLikeTheRowsTheyCameFrom) {
  // Snapshots compute key groups from the state's key columns: they must agree with
  // the exchange's routing of the original rows.
  auto backend =
      MakeMemoryStateBackend(KeyGroupRange::All(), arrow::default_memory_pool());
  auto desc = Desc(true);
  KeyedAccumulators* t = backend->Accumulators(desc, 0).ValueOrDie();
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) keys.push_back("key" + std::to_string(i * 7919));
  std::vector<uint32_t> ids(keys.size());
  ASSERT_TRUE(t->FindOrInsert({Strings(keys)}, keys.size(), ids.data()).ok());
  auto stored = t->KeyColumns(nullptr, 0).ValueOrDie();
  std::vector<uint16_t> a, b;
  ASSERT_TRUE(KeyGroupsOf({Strings(keys)}, keys.size(), &a).ok());
  ASSERT_TRUE(KeyGroupsOf(stored, keys.size(), &b).ok());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(a[i], b[ids[i]]);
}

// Random rows into pane tables; the state equals a reference; a snapshot restored into
// two backends that split the key groups gives back exactly the same state.
TEST(KeyedAccumulators, PanesSnapshotAndRestoreAtAnotherParallelism) {
  std::mt19937_64 rng(42);
  auto backend =
      MakeMemoryStateBackend(KeyGroupRange::All(), arrow::default_memory_pool());
  auto desc = Desc(true);
  std::map<int64_t, std::map<std::string, Agg>> ref;
  for (int batch = 0; batch < 40; ++batch) {
    const int64_t ns = static_cast<int64_t>(rng() % 5) * 1000;
    std::vector<std::string> keys;
    std::vector<int64_t> values;
    for (int i = 0; i < 200; ++i) {
      keys.push_back("k" + std::to_string(rng() % 300));
      values.push_back(static_cast<int64_t>(rng() % 1000) - 500);
      ref[ns][keys.back()].Add(values.back());
    }
    KeyedAccumulators* t = backend->Accumulators(desc, ns).ValueOrDie();
    std::vector<uint32_t> slots(keys.size());
    ASSERT_TRUE(t->FindOrInsert({Strings(keys)}, keys.size(), slots.data()).ok());
    ASSERT_TRUE(
        t->Update({nullptr, Ints(values), Ints(values)}, slots.data(), keys.size()).ok());
  }
  EXPECT_EQ(backend->Namespaces("agg").size(), ref.size());
  for (const auto& [ns, want] : ref) EXPECT_EQ(Read(backend.get(), desc, ns), want);

  auto snap = backend->Snapshot(KeyGroupRange::All()).ValueOrDie();
  ASSERT_EQ(snap.states.size(), 1u);
  std::unique_ptr<StateBackend> parts[2];
  for (int w = 0; w < 2; ++w) {
    parts[w] = MakeMemoryStateBackend(KeyGroupRange::OfWorker(w, 2),
                                      arrow::default_memory_pool());
    ASSERT_TRUE(parts[w]->Accumulators(desc, 0).ok());  // the operator asks first
    auto st = parts[w]->Restore(snap);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  for (const auto& [ns, want] : ref) {
    std::map<std::string, Agg> got;
    for (int w = 0; w < 2; ++w) {
      for (const auto& [k, v] : Read(parts[w].get(), desc, ns)) {
        EXPECT_TRUE(KeyGroupRange::OfWorker(w, 2).Contains(GroupOf(k))) << k;
        EXPECT_EQ(got.count(k), 0u);
        got[k] = v;
      }
    }
    EXPECT_EQ(got, want) << "namespace " << ns;
  }
  // And back to one backend from both halves (lower parallelism).
  auto merged =
      MakeMemoryStateBackend(KeyGroupRange::All(), arrow::default_memory_pool());
  ASSERT_TRUE(merged->Accumulators(desc, 0).ok());
  for (int w = 0; w < 2; ++w) {
    auto half = parts[w]->Snapshot(KeyGroupRange::All()).ValueOrDie();
    ASSERT_TRUE(merged->Restore(half).ok());
  }
  for (const auto& [ns, want] : ref) EXPECT_EQ(Read(merged.get(), desc, ns), want);
}

// Session-like slots: slots added per key, merged, freed and compacted; timers name
// their keys and follow them through compaction and a restore.
TEST(KeyedAccumulators, SlotsMergeCompactAndRestoreWithTheirTimers) {
  std::mt19937_64 rng(7);
  auto backend =
      MakeMemoryStateBackend(KeyGroupRange::All(), arrow::default_memory_pool());
  auto desc = Desc(false, "sessions");
  KeyedAccumulators* t = backend->Accumulators(desc, 0).ValueOrDie();
  TimerService* timers = backend->Timers("ends", "sessions").ValueOrDie();
  // Reference: slot -> (key, window, aggregates), live ones only.
  struct Ref {
    std::string key;
    StateWindow w;
    Agg agg;
  };
  std::map<uint32_t, Ref> ref;
  for (int round = 0; round < 30; ++round) {
    std::vector<std::string> keys;
    for (int i = 0; i < 20; ++i) keys.push_back("s" + std::to_string(rng() % 40));
    std::vector<uint32_t> ids(keys.size());
    ASSERT_TRUE(t->FindOrInsert({Strings(keys)}, keys.size(), ids.data()).ok());
    std::vector<uint32_t> slots;
    std::vector<int64_t> values;
    for (size_t i = 0; i < keys.size(); ++i) {
      const int64_t start = round * 100 + static_cast<int64_t>(i);
      uint32_t s = t->AddSlot(ids[i], StateWindow{start, start + 10}).ValueOrDie();
      timers->Register(Timer{start + 10, ids[i], StateWindow{start, start + 10}});
      slots.push_back(s);
      values.push_back(static_cast<int64_t>(rng() % 100));
      ref[s] = Ref{keys[i], StateWindow{start, start + 10}, Agg{}};
      ref[s].agg.Add(values.back());
    }
    ASSERT_TRUE(
        t->Update({nullptr, Ints(values), Ints(values)}, slots.data(), slots.size())
            .ok());
    // Merge the second slot of a key into its first, free the rest at random.
    std::vector<uint32_t> from, to;
    for (size_t i = 1; i < slots.size(); ++i) {
      if (ref.count(slots[i]) && ref.count(slots[i - 1]) &&
          ref[slots[i]].key == ref[slots[i - 1]].key) {
        from.push_back(slots[i]);
        to.push_back(slots[i - 1]);
      }
    }
    ASSERT_TRUE(t->MergeSlots(from.data(), to.data(), from.size()).ok());
    for (size_t j = 0; j < from.size(); ++j) {
      ref[to[j]].agg.Merge(ref[from[j]].agg);
      const Ref& gone = ref[from[j]];
      timers->Delete(Timer{gone.w.end, t->key_of(from[j]), gone.w});
      t->FreeSlot(from[j]);
      ref.erase(from[j]);
    }
    for (uint32_t s : slots) {
      if (ref.count(s) && rng() % 3 == 0) {
        timers->Delete(Timer{ref[s].w.end, t->key_of(s), ref[s].w});
        t->FreeSlot(s);
        ref.erase(s);
      }
    }
    if (round % 10 == 9) {
      std::vector<uint32_t> key_map, slot_map;
      ASSERT_TRUE(t->Compact(&key_map, &slot_map).ok());
      timers->RemapKeys(key_map);
      std::map<uint32_t, Ref> moved;
      for (auto& [s, r] : ref) {
        ASSERT_NE(slot_map[s], KeyedAccumulators::kNoSlot);
        moved[slot_map[s]] = r;
      }
      ref = std::move(moved);
    }
  }
  ASSERT_EQ(t->live_slots(), static_cast<int64_t>(ref.size()));
  EXPECT_EQ(timers->size(), static_cast<int64_t>(ref.size()));

  // (key, window start) -> aggregates of a backend's live slots; and its timers.
  auto contents = [&](StateBackend* b) {
    KeyedAccumulators* acc = b->Accumulators(desc, 0).ValueOrDie();
    std::map<std::pair<std::string, int64_t>, Agg> out;
    std::vector<uint32_t> live;
    for (uint32_t s = 0; s < acc->num_slots(); ++s) {
      live.push_back(s);
    }
    auto keys = acc->KeyColumns(nullptr, 0).ValueOrDie();
    auto values = acc->Finalize(live.data(), live.size()).ValueOrDie();
    const auto& k = static_cast<const arrow::StringArray&>(*keys[0]);
    const auto& n = static_cast<const arrow::Int64Array&>(*values[0]);
    const auto& s = static_cast<const arrow::Int64Array&>(*values[1]);
    const auto& m = static_cast<const arrow::Int64Array&>(*values[2]);
    for (size_t j = 0; j < live.size(); ++j) {
      if (n.Value(j) == 0) continue;  // freed (restored backends hold live ones only)
      out[{k.GetString(acc->key_of(live[j])), acc->window(live[j]).start}] =
          Agg{n.Value(j), s.Value(j), m.Value(j)};
    }
    std::vector<Timer> fired;
    b->Timers("ends", "sessions").ValueOrDie()->PopUpTo(kForever - 1, &fired);
    std::set<std::pair<std::string, int64_t>> timer_keys;
    for (const Timer& tm : fired) {
      timer_keys.insert({k.GetString(tm.key), tm.window.start});
    }
    return std::make_pair(out, timer_keys);
  };
  std::map<std::pair<std::string, int64_t>, Agg> want;
  std::set<std::pair<std::string, int64_t>> want_timers;
  for (const auto& [s, r] : ref) {
    want[{r.key, r.w.start}] = r.agg;
    want_timers.insert({r.key, r.w.start});
  }
  auto snap = backend->Snapshot(KeyGroupRange::All()).ValueOrDie();
  std::map<std::pair<std::string, int64_t>, Agg> got;
  std::set<std::pair<std::string, int64_t>> got_timers;
  for (int w = 0; w < 3; ++w) {
    auto part = MakeMemoryStateBackend(KeyGroupRange::OfWorker(w, 3),
                                       arrow::default_memory_pool());
    ASSERT_TRUE(part->Accumulators(desc, 0).ok());
    ASSERT_TRUE(part->Timers("ends", "sessions").ok());
    auto st = part->Restore(snap);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto [c, tk] = contents(part.get());
    for (const auto& [key, agg] : c) {
      EXPECT_TRUE(KeyGroupRange::OfWorker(w, 3).Contains(GroupOf(key.first)));
      got[key] = agg;
    }
    got_timers.insert(tk.begin(), tk.end());
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(got_timers, want_timers);
}

TEST(TimerService, FiresOnceInTimeOrderAndIgnoresDuplicates) {
  auto backend =
      MakeMemoryStateBackend(KeyGroupRange::All(), arrow::default_memory_pool());
  TimerService* t = backend->Timers("t", "").ValueOrDie();
  t->Register(Timer{30, Timer::kNoKey, {0, 30}});
  t->Register(Timer{10, Timer::kNoKey, {0, 10}});
  t->Register(Timer{10, Timer::kNoKey, {0, 10}});  // the same: once
  t->Register(Timer{20, Timer::kNoKey, {0, 20}});
  t->Delete(Timer{20, Timer::kNoKey, {0, 20}});
  EXPECT_EQ(t->size(), 2);
  EXPECT_EQ(t->NextTime(), 10);
  std::vector<Timer> fired;
  t->PopUpTo(9, &fired);
  EXPECT_TRUE(fired.empty());
  t->PopUpTo(30, &fired);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].time, 10);
  EXPECT_EQ(fired[1].time, 30);
  EXPECT_EQ(t->NextTime(), kForever);
  // A timer without a key belongs to every key group: every part restores it.
  t->Register(Timer{50, Timer::kNoKey, {40, 50}});
  auto snap = backend->Snapshot(KeyGroupRange::All()).ValueOrDie();
  for (int w = 0; w < 2; ++w) {
    auto part = MakeMemoryStateBackend(KeyGroupRange::OfWorker(w, 2),
                                       arrow::default_memory_pool());
    TimerService* pt = part->Timers("t", "").ValueOrDie();
    ASSERT_TRUE(part->Restore(snap).ok());
    EXPECT_EQ(pt->NextTime(), 50);
  }
}

// Join rows: probed by key, leave at time + reach, and a snapshot split across two
// backends keeps every row once, with its time, match flag and expiry.
TEST(KeyedRows, ProbeExpireAndRestoreSplit) {
  auto backend =
      MakeMemoryStateBackend(KeyGroupRange::All(), arrow::default_memory_pool());
  KeyedRows* rows = backend->Rows("left").ValueOrDie();
  std::vector<std::string> keys;
  std::vector<int64_t> times;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("r" + std::to_string(i % 25));
    times.push_back(i * 10);
  }
  auto schema = arrow::schema(
      {arrow::field("k", arrow::utf8()), arrow::field("t", arrow::int64())});
  auto batch = arrow::RecordBatch::Make(schema, 100, {Strings(keys), Ints(times)});
  EncodedRows enc;
  ASSERT_TRUE(EncodeRows({batch->column(0)}, &enc).ok());
  std::vector<int32_t> all(100);
  for (int i = 0; i < 100; ++i) all[i] = i;
  std::vector<uint8_t> matched(100, 0);
  matched[3] = 1;
  ASSERT_TRUE(rows->Add(batch, enc, times, matched, all, 5).ok());

  auto probe = [&](KeyedRows* r, const std::string& key,
                   int64_t lo = std::numeric_limits<int64_t>::min(),
                   int64_t hi = std::numeric_limits<int64_t>::max()) {
    EncodedRows p;
    EXPECT_TRUE(EncodeRows({Strings({key})}, &p).ok());
    uint8_t usable = 1;
    std::vector<KeyedRows::Candidate> c;
    r->Probe(p, &usable, &lo, &hi, 1, &c);
    std::set<int64_t> out;
    for (const auto& x : c) out.insert(x.time);
    return out;
  };
  EXPECT_EQ(probe(rows, "r3"), (std::set<int64_t>{30, 280, 530, 780}));
  EXPECT_EQ(probe(rows, "r3", 280, 779), (std::set<int64_t>{280, 530}));
  std::vector<KeyedRows::Gone> gone;
  rows->Expire(285, &gone);  // rows with time + 5 <= 285: times 0..280
  int64_t left = 0;
  for (const auto& g : gone) {
    left += static_cast<int64_t>(g.rows.size());
    EXPECT_TRUE(std::is_sorted(g.rows.begin(), g.rows.end()));
  }
  EXPECT_EQ(left, 29);
  EXPECT_EQ(probe(rows, "r3"), (std::set<int64_t>{530, 780}));

  auto snap = backend->Snapshot(KeyGroupRange::All()).ValueOrDie();
  std::set<int64_t> seen;
  for (int w = 0; w < 2; ++w) {
    auto part = MakeMemoryStateBackend(KeyGroupRange::OfWorker(w, 2),
                                       arrow::default_memory_pool());
    ASSERT_TRUE(part->Restore(snap).ok());
    KeyedRows* r = part->Rows("left").ValueOrDie();
    for (int k = 0; k < 25; ++k) {
      const std::string key = "r" + std::to_string(k);
      auto found = probe(r, key);
      if (!KeyGroupRange::OfWorker(w, 2).Contains(GroupOf(key))) {
        EXPECT_TRUE(found.empty()) << key;
      }
      for (int64_t t : found) EXPECT_TRUE(seen.insert(t).second);
    }
    // Rows keep their expiry: everything up to 600 leaves at 605.
    std::vector<KeyedRows::Gone> g2;
    r->Expire(605, &g2);
    for (const auto& g : g2) {
      const auto& t = static_cast<const arrow::Int64Array&>(*g.batch->column(1));
      for (size_t j = 0; j < g.rows.size(); ++j) EXPECT_LE(t.Value(g.rows[j]), 600);
    }
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), 71);
}

}  // namespace
}  // namespace sluice::exec
