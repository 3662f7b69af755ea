#include "sluice/exec/physical_planner.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "sluice/exec/scannable.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::exec {
namespace {

using expr::Aggregate;
using expr::Call;
using expr::Column;
using expr::Literal;

std::shared_ptr<arrow::Table> RandomTable(int64_t n, int keys, uint32_t seed) {
  std::mt19937 rng(seed);
  arrow::Int64Builder k;
  arrow::DoubleBuilder v;
  arrow::StringBuilder s;
  for (int64_t i = 0; i < n; ++i) {
    if (rng() % 10 == 0) {
      (void)k.AppendNull();
    } else {
      (void)k.Append(rng() % keys);
    }
    (void)v.Append(static_cast<double>(rng() % 1000) / 10.0);
    (void)s.Append("s" + std::to_string(rng() % 7));
  }
  auto schema = arrow::schema({arrow::field("k", arrow::int64()),
                               arrow::field("v", arrow::float64()),
                               arrow::field("s", arrow::utf8())});
  return arrow::Table::Make(schema, {k.Finish().ValueOrDie(), v.Finish().ValueOrDie(),
                                     s.Finish().ValueOrDie()});
}

plan::Plan ScanOf(std::shared_ptr<arrow::Table> t) {
  return plan::MakeScan(std::make_shared<InMemoryTable>(t, "t"));
}

std::shared_ptr<arrow::Table> RunPlan(const plan::Plan& p, int threads,
                                      int64_t batch_rows = 1000) {
  plan::AssignIds(p);
  ExecContext ctx(ExecOptions{threads, -1, batch_rows, {}});
  auto r = ExecuteToTable(p, &ctx);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ValueOr(nullptr);
}

TEST(Executor, GroupBySumMatchesReferenceAcrossThreads) {
  auto t = RandomTable(20000, 50, 1);
  auto agg = plan::MakeAggregate(ScanOf(t), {Column("k")},
                                 {expr::Alias(Aggregate("sum", {Column("v")}), "total"),
                                  expr::Alias(Aggregate("count_star", {}), "n")});
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  auto sorted = plan::MakeSort(*agg, {plan::SortKey{Column("k"), true, true}});
  ASSERT_TRUE(sorted.ok());
  // Reference computed directly.
  std::map<int64_t, std::pair<double, int64_t>> ref;
  std::pair<double, int64_t> null_ref{0, 0};
  auto k = std::static_pointer_cast<arrow::Int64Array>(t->column(0)->chunk(0));
  auto v = std::static_pointer_cast<arrow::DoubleArray>(t->column(1)->chunk(0));
  for (int64_t i = 0; i < t->num_rows(); ++i) {
    auto& slot = k->IsNull(i) ? null_ref : ref[k->Value(i)];
    slot.first += v->Value(i);
    slot.second++;
  }
  for (int threads : {1, 2, 4}) {
    auto out = RunPlan(*sorted, threads);
    ASSERT_TRUE(out);
    ASSERT_EQ(out->num_rows(), static_cast<int64_t>(ref.size()) + 1);
    auto combined = out->CombineChunksToBatch().ValueOrDie();
    auto ok = std::static_pointer_cast<arrow::Int64Array>(combined->column(0));
    auto total = std::static_pointer_cast<arrow::DoubleArray>(combined->column(1));
    auto n = std::static_pointer_cast<arrow::Int64Array>(combined->column(2));
    EXPECT_TRUE(ok->IsNull(0));  // NULLS FIRST
    EXPECT_NEAR(total->Value(0), null_ref.first, 1e-6);
    int64_t row = 1;
    for (const auto& [key, val] : ref) {
      EXPECT_EQ(ok->Value(row), key);
      EXPECT_NEAR(total->Value(row), val.first, 1e-6);
      EXPECT_EQ(n->Value(row), val.second);
      ++row;
    }
  }
}

TEST(Executor, JoinTypesCountRows) {
  auto a = RandomTable(3000, 100, 2);
  auto b = RandomTable(500, 150, 3);
  // Reference counts.
  auto ka = std::static_pointer_cast<arrow::Int64Array>(a->column(0)->chunk(0));
  auto kb = std::static_pointer_cast<arrow::Int64Array>(b->column(0)->chunk(0));
  std::map<int64_t, int64_t> bcount;
  for (int64_t i = 0; i < kb->length(); ++i) {
    if (kb->IsValid(i)) bcount[kb->Value(i)]++;
  }
  int64_t inner = 0, left_unmatched = 0, semi = 0;
  std::map<int64_t, bool> b_matched;
  for (int64_t i = 0; i < ka->length(); ++i) {
    if (ka->IsValid(i) && bcount.count(ka->Value(i))) {
      inner += bcount[ka->Value(i)];
      semi++;
      b_matched[ka->Value(i)] = true;
    } else {
      left_unmatched++;
    }
  }
  int64_t right_unmatched = 0;
  for (int64_t i = 0; i < kb->length(); ++i) {
    if (kb->IsNull(i) || !b_matched.count(kb->Value(i))) right_unmatched++;
  }
  struct Case {
    plan::JoinType type;
    int64_t rows;
  };
  for (bool build_left : {false, true}) {
    for (auto c : {Case{plan::JoinType::kInner, inner},
                   Case{plan::JoinType::kLeft, inner + left_unmatched},
                   Case{plan::JoinType::kRight, inner + right_unmatched},
                   Case{plan::JoinType::kFull, inner + left_unmatched + right_unmatched},
                   Case{plan::JoinType::kSemi, semi},
                   Case{plan::JoinType::kAnti, left_unmatched}}) {
      auto j = plan::MakeJoin(ScanOf(a), ScanOf(b), c.type, {Column("k")}, {Column("k")});
      ASSERT_TRUE(j.ok()) << j.status().ToString();
      static_cast<plan::JoinNode&>(**j).build_left = build_left;
      for (int threads : {1, 3}) {
        auto out = RunPlan(*j, threads, 256);
        ASSERT_TRUE(out);
        EXPECT_EQ(out->num_rows(), c.rows)
            << plan::JoinTypeName(c.type) << " threads=" << threads
            << " build_left=" << build_left;
      }
    }
  }
}

TEST(Executor, MemoryLimitErrorNamesOperator) {
  // median() keeps every value: this aggregate cannot spill (hash_aggregate.h).
  auto t = RandomTable(200000, 1 << 30, 4);
  auto agg = plan::MakeAggregate(ScanOf(t), {Column("k")},
                                 {expr::Aggregate("median", {Column("v")})});
  ASSERT_TRUE(agg.ok());
  plan::AssignIds(*agg);
  ExecContext ctx(ExecOptions{2, 1 << 20, 4096, {}});
  auto r = ExecuteToTable(*agg, &ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsOutOfMemory()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("HashAggregate"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("median() keeps every value"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace sluice::exec
