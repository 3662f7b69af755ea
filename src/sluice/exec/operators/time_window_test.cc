#include "sluice/exec/operators/time_window.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "sluice/exec/exchange.h"
#include "sluice/exec/pipeline.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::exec {
namespace {

using ArrayPtr = std::shared_ptr<arrow::Array>;

// Records what an operator emits.
class Recorder : public Emitter {
 public:
  Status Emit(Batch batch) override {
    std::lock_guard<std::mutex> lock(mu);
    batches.push_back(batch.data);
    events.push_back("rows");
    return Status::OK();
  }
  Status EmitWatermark(Watermark wm) override {
    std::lock_guard<std::mutex> lock(mu);
    watermarks.push_back(wm);
    events.push_back("wm " + std::to_string(wm));
    return Status::OK();
  }
  // (window_start, key) -> (count, sum) of everything emitted, and which windows came
  // out before the watermark that fired them.
  using Key = std::pair<int64_t, std::string>;
  using Value = std::pair<int64_t, int64_t>;
  std::map<Key, Value> Results() const {
    std::map<std::pair<int64_t, std::string>, std::pair<int64_t, int64_t>> out;
    for (const auto& b : batches) {
      auto ws = std::static_pointer_cast<arrow::TimestampArray>(b->column(0));
      auto k = std::static_pointer_cast<arrow::StringArray>(b->column(2));
      auto n = std::static_pointer_cast<arrow::Int64Array>(b->column(3));
      auto s = std::static_pointer_cast<arrow::Int64Array>(b->column(4));
      for (int64_t i = 0; i < b->num_rows(); ++i) {
        auto key = std::make_pair(ws->Value(i), k->GetString(i));
        EXPECT_EQ(out.count(key), 0u) << "window emitted twice";
        out[key] = {n->Value(i), s->Value(i)};
      }
    }
    return out;
  }
  std::mutex mu;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  std::vector<Watermark> watermarks;
  std::vector<std::string> events;
};

auto kTs = arrow::timestamp(arrow::TimeUnit::MICRO);
auto kInput = arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("t", kTs),
                             arrow::field("v", arrow::int64()), arrow::field("ws", kTs)});

ArrayPtr Times(const std::vector<int64_t>& v) {
  arrow::TimestampBuilder b(kTs, arrow::default_memory_pool());
  EXPECT_TRUE(b.AppendValues(v).ok());
  return b.Finish().ValueOrDie();
}

// A batch of (key, time) rows, v = 1 each; ws = each row's pane (pane width `pane`) or,
// for sessions (pane 0), its time.
std::shared_ptr<arrow::RecordBatch> Rows(
    const std::vector<std::pair<std::string, int64_t>>& rows, int64_t pane) {
  arrow::StringBuilder k;
  std::vector<int64_t> t, ws, v;
  for (const auto& [key, time] : rows) {
    EXPECT_TRUE(k.Append(key).ok());
    t.push_back(time);
    v.push_back(1);
    ws.push_back(pane > 0 ? FloorDiv(time, pane) * pane : time);
  }
  arrow::Int64Builder vb;
  EXPECT_TRUE(vb.AppendValues(v).ok());
  return arrow::RecordBatch::Make(
      kInput, static_cast<int64_t>(rows.size()),
      {k.Finish().ValueOrDie(), Times(t), vb.Finish().ValueOrDie(), Times(ws)});
}

// window_start, window_end, k, count(*), sum(v) over the input above.
std::shared_ptr<WindowAggregateFactory> Factory(TimeWindowSpec spec) {
  auto table = arrow::Table::Make(
      kInput,
      arrow::ChunkedArrayVector{
          std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{}, arrow::utf8()),
          std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{}, kTs),
          std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{}, arrow::int64()),
          std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{}, kTs)});
  auto scan = plan::MakeScan(std::make_shared<InMemoryTable>(table, "t"));
  auto agg =
      plan::MakeAggregate(scan, {expr::Column("k")},
                          {expr::Alias(expr::Aggregate("count_star", {}), "n"),
                           expr::Alias(expr::Aggregate("sum", {expr::Column("v")}), "s")})
          .ValueOrDie();
  const auto& a = static_cast<const plan::AggregateNode&>(*agg);
  auto out = arrow::schema({arrow::field("window_start", kTs),
                            arrow::field("window_end", kTs), agg->schema->field(0),
                            agg->schema->field(1), agg->schema->field(2)});
  return std::make_shared<WindowAggregateFactory>(
      spec, 3, 0, a.keys,
      std::vector<int>{WindowAggregateFactory::kWindowStart,
                       WindowAggregateFactory::kWindowEnd, 0},
      a.aggregates, out);
}

struct Harness {
  explicit Harness(TimeWindowSpec spec) : ctx(ExecOptions{}), factory(Factory(spec)) {
    op = factory->Make(&ctx, 0).ValueOrDie();
  }
  void Add(const std::vector<std::pair<std::string, int64_t>>& rows, int64_t pane) {
    ASSERT_TRUE(op->ProcessBatch(Batch{Rows(rows, pane), 0}, &out).ok());
  }
  void Watermark(int64_t wm) { ASSERT_TRUE(op->ProcessWatermark(wm, &out).ok()); }
  ExecContext ctx;
  std::shared_ptr<WindowAggregateFactory> factory;
  std::unique_ptr<Operator> op;
  Recorder out;
};

TEST(WindowAggregate, TumbleFiresOnceTheWatermarkPassesTheEndAndDropsLateRows) {
  TimeWindowSpec spec;
  spec.size_us = 10;
  Harness h(spec);
  h.Add({{"a", 1}, {"a", 5}, {"b", 12}, {"a", 19}}, 10);
  h.Watermark(8);  // [0, 10) not complete yet: 9 may still come
  EXPECT_TRUE(h.out.batches.empty());
  h.Watermark(9);
  ASSERT_EQ(h.out.batches.size(), 1u);
  h.Add({{"a", 3}, {"b", 15}}, 10);  // 3: its window fired; 15 is on time
  EXPECT_EQ(h.ctx.progress().rows_late.load(), 1);
  h.Watermark(kMaxWatermark);
  auto r = h.out.Results();
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r[Recorder::Key(0, "a")], Recorder::Value(2, 2));
  EXPECT_EQ(r[Recorder::Key(10, "b")], Recorder::Value(2, 2));
  EXPECT_EQ(r[Recorder::Key(10, "a")], Recorder::Value(1, 1));
  // The watermark follows the windows it fired.
  EXPECT_EQ(h.out.events.back(), "wm " + std::to_string(kMaxWatermark));
  // The watermark passed on stays below the windows still to come: [0, 10) is open at
  // 8, so -1; at 9 it fired and [10, 20) is the earliest open one, so 9.
  EXPECT_EQ(h.out.events[0], "wm -1");
  EXPECT_EQ(h.out.events[1], "rows");
  EXPECT_EQ(h.out.events[2], "wm 9");
}

TEST(WindowAggregate, PassesOnAWatermarkBelowEveryWindowStillToCome) {
  // A window over window_start downstream must not find these rows late.
  TimeWindowSpec spec;
  spec.kind = plan::TimeWindowKind::kHop;
  spec.size_us = 10;
  spec.slide_us = 5;
  Harness h(spec);
  h.Watermark(22);  // no rows: a row at 23 would still open [15, 25)
  EXPECT_EQ(h.out.watermarks.back(), 14);
  h.Add({{"a", 24}}, 5);
  h.Watermark(30);  // fires [15, 25) and [20, 30); [25, 35) is open
  EXPECT_EQ(h.out.watermarks.back(), 24);
  for (const auto& [key, value] : h.out.Results()) EXPECT_GT(key.first, 14);
  TimeWindowSpec session;
  session.kind = plan::TimeWindowKind::kSession;
  session.gap_us = 5;
  Harness s(session);
  s.Add({{"a", 3}, {"a", 6}, {"a", 9}}, 0);  // [3, 14) open
  s.Watermark(12);
  EXPECT_EQ(s.out.watermarks.back(), 2);
  s.Watermark(13);  // fires [3, 14); a row at 14 could still open [14, 19)
  EXPECT_EQ(s.out.watermarks.back(), 9);
}

TEST(WindowAggregate, LatenessKeepsAWindowOpenLonger) {
  TimeWindowSpec spec;
  spec.size_us = 10;
  spec.lateness_us = 5;
  Harness h(spec);
  h.Add({{"a", 1}}, 10);
  h.Watermark(12);
  h.Add({{"a", 2}}, 10);  // within the lateness: counted
  h.Watermark(14);
  EXPECT_EQ(h.out.Results()[std::make_pair(int64_t{0}, std::string("a"))].first, 2);
  h.Add({{"a", 3}}, 10);
  EXPECT_EQ(h.ctx.progress().rows_late.load(), 1);
}

TEST(WindowAggregate, HopWindowsMergeTheirPanes) {
  TimeWindowSpec spec;
  spec.kind = plan::TimeWindowKind::kHop;
  spec.size_us = 10;
  spec.slide_us = 5;
  Harness h(spec);
  // Rows at 1, 6, 7, 12: windows [-5, 5) {1}, [0, 10) {1, 6, 7}, [5, 15) {6, 7, 12},
  // [10, 20) {12}.
  h.Add({{"a", 7}, {"a", 1}}, 5);
  h.Add({{"a", 6}}, 5);
  h.Watermark(9);  // fires [-5, 5) and [0, 10)
  EXPECT_EQ(h.out.Results().size(), 2u);
  h.Add({{"a", 12}, {"a", 2}}, 5);  // 2: in [0, 10) (fired) and [-5, 5) (fired): late
  EXPECT_EQ(h.ctx.progress().rows_late.load(), 1);
  h.Watermark(kMaxWatermark);
  auto r = h.out.Results();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[Recorder::Key(-5, "a")].first, 1);
  EXPECT_EQ(r[Recorder::Key(0, "a")].first, 3);
  EXPECT_EQ(r[Recorder::Key(5, "a")].first, 3);
  EXPECT_EQ(r[Recorder::Key(10, "a")].first, 1);
}

TEST(WindowAggregate, HopRowAfterSomeOfItsWindowsFiredCountsInTheOthers) {
  TimeWindowSpec spec;
  spec.kind = plan::TimeWindowKind::kHop;
  spec.size_us = 10;
  spec.slide_us = 5;
  Harness h(spec);
  h.Add({{"a", 1}}, 5);
  h.Watermark(4);        // fires [-5, 5)
  h.Add({{"a", 3}}, 5);  // [-5, 5) fired, [0, 10) open
  h.Watermark(kMaxWatermark);
  auto r = h.out.Results();
  EXPECT_EQ(r[Recorder::Key(-5, "a")].first, 1);
  EXPECT_EQ(r[Recorder::Key(0, "a")].first, 2);
  EXPECT_EQ(h.ctx.progress().rows_late.load(), 0);
}

TEST(WindowAggregate, SessionsGrowMergeAndFirePerKey) {
  TimeWindowSpec spec;
  spec.kind = plan::TimeWindowKind::kSession;
  spec.gap_us = 5;
  Harness h(spec);
  // a: 1, 3 -> [1, 8); 20 -> [20, 25); then 11 and 6 bridge [1, 8) and a new [11, 16).
  h.Add({{"a", 1}, {"b", 2}, {"a", 3}, {"a", 20}}, 0);
  h.Add({{"a", 11}}, 0);
  h.Watermark(5);  // b's [2, 7) is complete at 6: not yet
  EXPECT_TRUE(h.out.batches.empty());
  h.Add({{"a", 7}}, 0);  // joins [1, 8) and [11, 16) into [1, 16)
  h.Watermark(14);       // b fires; a's [1, 16) not yet
  auto r = h.out.Results();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[Recorder::Key(2, "b")].first, 1);
  h.Add({{"b", 4}}, 0);  // [4, 9) would have ended by 14: late
  EXPECT_EQ(h.ctx.progress().rows_late.load(), 1);
  h.Watermark(kMaxWatermark);
  r = h.out.Results();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[Recorder::Key(1, "a")], Recorder::Value(4, 4));
  EXPECT_EQ(r[Recorder::Key(20, "a")].first, 1);
  auto ends =
      std::static_pointer_cast<arrow::TimestampArray>(h.out.batches[1]->column(1));
  EXPECT_EQ(ends->Value(0), 16);  // [1, 16)
}

TEST(WindowAggregate, ManySessionsCompactAndStayExact) {
  TimeWindowSpec spec;
  spec.kind = plan::TimeWindowKind::kSession;
  spec.gap_us = 3;
  Harness h(spec);
  // 300 keys, each a session per 10 time units; the watermark fires them as it goes, so
  // the state is compacted many times.
  std::map<std::pair<int64_t, std::string>, int64_t> expect;
  for (int64_t t = 0; t < 2000; t += 10) {
    std::vector<std::pair<std::string, int64_t>> rows;
    for (int k = 0; k < 300; ++k) {
      std::string key = "k" + std::to_string(k);
      rows.emplace_back(key, t + k % 2);
      rows.emplace_back(key, t + 2);
      expect[{t + k % 2, key}] = 2;
    }
    h.Add(rows, 0);
    h.Watermark(t + 5);
  }
  h.Watermark(kMaxWatermark);
  auto r = h.out.Results();
  ASSERT_EQ(r.size(), expect.size());
  for (const auto& [key, n] : expect) EXPECT_EQ(r[key].first, n);
}

TEST(Exchange, ConsumersSeeTheLowestWatermarkOfAllProducers) {
  ExecContext ctx(ExecOptions{2, 0, 65536, ""});
  auto schema = arrow::schema({arrow::field("x", arrow::int64())});
  auto key = expr::BoundColumn(0, "x", arrow::int64());
  Exchange ex({key});
  ex.AddFeedingPipeline();
  ex.WillRun(&ctx, 2);
  ASSERT_TRUE(ex.Prepare(&ctx).ok());
  ASSERT_EQ(ex.num_morsels(), 2);
  auto p0 = ex.MakeLocal(&ctx, 0).ValueOrDie();
  auto p1 = ex.MakeLocal(&ctx, 1).ValueOrDie();
  Recorder c0, c1;
  std::thread t0([&] { EXPECT_TRUE(ex.Produce(&ctx, 0, &c0).ok()); });
  std::thread t1([&] { EXPECT_TRUE(ex.Produce(&ctx, 1, &c1).ok()); });
  arrow::Int64Builder b;
  for (int64_t i = 0; i < 1000; ++i) ASSERT_TRUE(b.Append(i).ok());
  auto batch = arrow::RecordBatch::Make(schema, 1000, {b.Finish().ValueOrDie()});
  ASSERT_TRUE(ex.Consume(&ctx, p0.get(), Batch{batch, 0}).ok());
  ASSERT_TRUE(ex.ConsumeWatermark(&ctx, p0.get(), 100).ok());
  ASSERT_TRUE(ex.ConsumeWatermark(&ctx, p1.get(), 50).ok());
  ASSERT_TRUE(ex.ConsumeWatermark(&ctx, p1.get(), 200).ok());
  ASSERT_TRUE(ex.FinishLocal(&ctx, std::move(p0)).ok());
  ASSERT_TRUE(ex.FinishLocal(&ctx, std::move(p1)).ok());
  t0.join();
  t1.join();
  for (Recorder* c : {&c0, &c1}) {
    // 50 once both spoke, then 100 (p0 holds it back), 200 once p0 ended; the end
    // itself is not a watermark the exchange emits (the executor does).
    EXPECT_EQ(c->watermarks, (std::vector<Watermark>{50, 100, 200}));
  }
  // Every key went to one consumer, all rows to someone.
  std::map<int64_t, int> seen;
  int64_t rows = 0;
  for (Recorder* c : {&c0, &c1}) {
    for (const auto& bb : c->batches) {
      rows += bb->num_rows();
      auto x = std::static_pointer_cast<arrow::Int64Array>(bb->column(0));
      for (int64_t i = 0; i < x->length(); ++i) seen[x->Value(i)]++;
    }
  }
  EXPECT_EQ(rows, 1000);
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(c0.batches.empty());
  EXPECT_FALSE(c1.batches.empty());
}

// A source whose morsels are streams of their own: each must run on a worker of its
// own, even when one finishes before the other worker has started.
class PerWorkerSource : public Source {
 public:
  PerWorkerSource() : PhysicalNode("per worker") {}
  Status Prepare(ExecContext*) override { return Status::OK(); }
  int64_t num_morsels() const override { return 2; }
  bool morsel_per_worker() const override { return true; }
  Status Produce(ExecContext*, int64_t morsel, Emitter*) override {
    std::lock_guard<std::mutex> lock(mu);
    threads[morsel].push_back(std::this_thread::get_id());
    return Status::OK();
  }
  std::mutex mu;
  std::map<int64_t, std::vector<std::thread::id>> threads;
};

class NullSink : public Sink {
 public:
  NullSink() : PhysicalNode("null") {}
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext*, int) override {
    return std::make_unique<LocalSinkState>();
  }
  Status Consume(ExecContext*, LocalSinkState*, Batch) override { return Status::OK(); }
  Status FinishLocal(ExecContext*, std::unique_ptr<LocalSinkState>) override {
    return Status::OK();
  }
  Status Finalize(ExecContext*) override { return Status::OK(); }
};

TEST(Executor, MorselPerWorkerSourcesGetAWorkerEach) {
  for (int round = 0; round < 20; ++round) {
    ExecContext ctx(ExecOptions{2, 0, 65536, ""});
    auto source = std::make_shared<PerWorkerSource>();
    Executor executor(&ctx);
    ASSERT_TRUE(executor.Run({Pipeline{source, {}, std::make_shared<NullSink>()}}).ok());
    ASSERT_EQ(source->threads[0].size(), 1u);
    ASSERT_EQ(source->threads[1].size(), 1u);
    EXPECT_NE(source->threads[0][0], source->threads[1][0]);
  }
}

}  // namespace
}  // namespace sluice::exec
