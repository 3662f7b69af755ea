#include "sluice/plan/optimizer.h"

#include <gtest/gtest.h>

#include "sluice/plan/plan_builder.h"

namespace sluice::plan {
namespace {

using expr::Aggregate;
using expr::Call;
using expr::Column;
using expr::Literal;

class FakeSource : public TableSource {
 public:
  FakeSource(std::shared_ptr<arrow::Schema> schema, int64_t rows, bool prunable)
      : schema_(std::move(schema)), rows_(rows), prunable_(prunable) {}
  std::string Describe() const override { return "fake"; }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  std::optional<int64_t> EstimatedRows() const override { return rows_; }
  bool SupportsPredicatePruning() const override { return prunable_; }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  int64_t rows_;
  bool prunable_;
};

Plan Scan(int64_t rows, bool prunable = true) {
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8()),
       arrow::field("c", arrow::float64()), arrow::field("d", arrow::int64())});
  return MakeScan(std::make_shared<FakeSource>(schema, rows, prunable));
}

const ScanNode* FindScan(const Plan& p) {
  if (p->kind == NodeKind::kScan) return static_cast<const ScanNode*>(p.get());
  for (const auto& in : p->inputs) {
    if (auto* s = FindScan(in)) return s;
  }
  return nullptr;
}

TEST(Optimizer, ScansReadOnlyUsedColumnsAndGetPruningPredicates) {
  auto f =
      MakeFilter(Scan(1000), Call(">", {Column("c"), Literal(arrow::MakeScalar(1.5))}));
  ASSERT_TRUE(f.ok());
  auto agg = MakeAggregate(*f, {Column("b")}, {Aggregate("sum", {Column("a")})});
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  auto before = (*agg)->schema;
  auto opt = Optimize(*agg);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  EXPECT_TRUE((*opt)->schema->Equals(*before));
  const ScanNode* scan = FindScan(*opt);
  ASSERT_NE(scan, nullptr);
  // a, b, c are used; d is not.
  EXPECT_EQ(scan->projection, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(scan->pruning_predicates.size(), 1u);
  EXPECT_EQ(expr::ToString(scan->pruning_predicates[0]), "(c > 1.5)");
}

TEST(Optimizer, FoldsConstantsAndDropsTrueFilters) {
  auto cond = Call("=", {Call("+", {Literal(arrow::MakeScalar(int64_t{1})),
                                    Literal(arrow::MakeScalar(int64_t{1}))}),
                         Literal(arrow::MakeScalar(int64_t{2}))});
  auto f = MakeFilter(Scan(10), cond);
  ASSERT_TRUE(f.ok());
  auto opt = Optimize(*f);
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ((*opt)->kind, NodeKind::kScan) << ExplainPlan(*opt);
}

TEST(Optimizer, CrossJoinWithEqualityBecomesHashJoinAndBuildsOnSmallerSide) {
  auto j = MakeJoin(Scan(1000000), Scan(100), JoinType::kInner, {}, {});
  ASSERT_TRUE(j.ok());
  // WHERE left.a = right.d (right columns start at 4)
  auto f = MakeFilter(*j, Call("=", {expr::BoundColumn(0, "a", arrow::int64()),
                                     expr::BoundColumn(7, "d", arrow::int64())}));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto opt = Optimize(*f);
  ASSERT_TRUE(opt.ok());
  const PlanNode* node = opt->get();
  while (node->kind != NodeKind::kJoin) node = node->inputs[0].get();
  const auto& join = static_cast<const JoinNode&>(*node);
  ASSERT_EQ(join.left_keys.size(), 1u) << ExplainPlan(*opt);
  EXPECT_FALSE(join.build_left);  // right (100 rows) is smaller
  EXPECT_EQ((*opt)->kind, NodeKind::kJoin) << ExplainPlan(*opt);  // no filter left above
}

TEST(Optimizer, LimitOverSortBecomesTopK) {
  auto s = MakeSort(Scan(100), {SortKey{Column("a"), false, false}});
  ASSERT_TRUE(s.ok());
  auto l = MakeLimit(*s, 10, 5);
  ASSERT_TRUE(l.ok());
  auto opt = Optimize(*l);
  ASSERT_TRUE(opt.ok());
  const auto& sort = static_cast<const SortNode&>(*(*opt)->inputs[0]);
  EXPECT_EQ(sort.limit, 15);
}

// Joins whose key sits in every branch of an OR (TPC-H Q19) get it as a key.
TEST(Optimizer, CommonTermsOfOrBranchesBecomeJoinKeys) {
  auto j = MakeJoin(Scan(1000), Scan(10), JoinType::kInner, {}, {});
  ASSERT_TRUE(j.ok());
  // Columns: 0..3 left (a, b, c, d), 4..7 right.
  auto key = Call("=", {expr::BoundColumn(0, "a", arrow::int64()),
                        expr::BoundColumn(4, "a", arrow::int64())});
  auto c = expr::BoundColumn(2, "c", arrow::float64());
  auto big = Call(">", {c, Literal(arrow::MakeScalar(1.5))});
  auto small = Call("<", {c, Literal(arrow::MakeScalar(0.5))});
  auto f =
      MakeFilter(*j, Call("or", {Call("and", {key, big}), Call("and", {small, key})}));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto opt = Optimize(*f);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  std::string text = ExplainPlan(*opt);
  EXPECT_NE(text.find("Join inner on [a] = [a]"), std::string::npos) << text;
}

// Three inputs written so that the first join has no key: the reordered plan joins
// along the equalities instead of building a cross product.
TEST(Optimizer, InnerJoinsAreOrderedAlongTheirKeys) {
  auto ab = MakeJoin(Scan(1000), Scan(100), JoinType::kInner, {}, {});
  ASSERT_TRUE(ab.ok());
  auto abc = MakeJoin(*ab, Scan(1000000), JoinType::kInner, {}, {});
  ASSERT_TRUE(abc.ok());
  // first.a = third.a AND second.d = third.d (columns 0, 7 = second.d, 8 = third.a,
  // 11 = third.d).
  auto pred = Call("and", {Call("=", {expr::BoundColumn(0, "a", arrow::int64()),
                                      expr::BoundColumn(8, "a", arrow::int64())}),
                           Call("=", {expr::BoundColumn(7, "d", arrow::int64()),
                                      expr::BoundColumn(11, "d", arrow::int64())})});
  auto f = MakeFilter(*abc, pred);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto before = (*f)->schema;
  auto opt = Optimize(*f);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  EXPECT_TRUE((*opt)->schema->Equals(*before));
  std::string text = ExplainPlan(*opt);
  EXPECT_EQ(text.find("on [] = []"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::plan

namespace sluice::plan {
namespace {

void CollectScans(const Plan& p, std::vector<const ScanNode*>* out) {
  if (p->kind == NodeKind::kScan) out->push_back(static_cast<const ScanNode*>(p.get()));
  for (const auto& in : p->inputs) CollectScans(in, out);
}

TEST(Optimizer, AnOrOverTwoInputsAddsAFilterOnEachInput) {
  auto j = MakeJoin(Scan(100000), Scan(1000), JoinType::kInner, {}, {});
  ASSERT_TRUE(j.ok());
  // left.a = right.a AND ((left.c > 1 AND right.d = 2) OR (left.c < 0 AND right.d = 3))
  auto lc = expr::BoundColumn(2, "c", arrow::float64());
  auto rd = expr::BoundColumn(7, "d", arrow::int64());
  auto num = [](double v) { return Literal(arrow::MakeScalar(v)); };
  auto big = [](int64_t v) { return Literal(arrow::MakeScalar(v)); };
  auto pred = Call(
      "and",
      {Call("=", {expr::BoundColumn(0, "a", arrow::int64()),
                  expr::BoundColumn(4, "a", arrow::int64())}),
       Call("or", {Call("and", {Call(">", {lc, num(1)}), Call("=", {rd, big(2)})}),
                   Call("and", {Call("<", {lc, num(0)}), Call("=", {rd, big(3)})})})});
  auto f = MakeFilter(*j, pred);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto opt = Optimize(*f);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  std::vector<const ScanNode*> scans;
  CollectScans(*opt, &scans);
  ASSERT_EQ(scans.size(), 2u);
  std::vector<std::string> pruning;
  for (const auto* s : scans) {
    ASSERT_EQ(s->pruning_predicates.size(), 1u) << ExplainPlan(*opt);
    pruning.push_back(expr::ToString(s->pruning_predicates[0]));
  }
  std::sort(pruning.begin(), pruning.end());
  EXPECT_EQ(pruning[0], "((c > 1) or (c < 0))");
  EXPECT_EQ(pruning[1], "((d = 2) or (d = 3))");
  // The OR itself stays (as the join's condition).
  EXPECT_NE(ExplainPlan(*opt).find("(c > 1) and (d = 2)"), std::string::npos)
      << ExplainPlan(*opt);
}

}  // namespace
}  // namespace sluice::plan

namespace sluice::plan {
namespace {

TEST(SameResult, EqualTreesOverOneSourceOnlyAndConservativeElsewhere) {
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8())});
  auto source = std::make_shared<FakeSource>(schema, 100, true);
  auto make = [&](std::shared_ptr<TableSource> src, int64_t bound, const char* agg) {
    auto f = MakeFilter(MakeScan(src),
                        Call(">", {Column("a"), Literal(arrow::MakeScalar(bound))}));
    return *MakeAggregate(*f, {Column("b")}, {Aggregate(agg, {Column("a")})});
  };
  auto x = make(source, 5, "sum");
  EXPECT_TRUE(SameResult(x, make(source, 5, "sum")));
  EXPECT_FALSE(SameResult(x, make(source, 6, "sum")));  // a constant
  EXPECT_FALSE(SameResult(x, make(source, 5, "max")));  // an aggregate
  // Another source object with the same schema (another file) is another result.
  EXPECT_FALSE(
      SameResult(x, make(std::make_shared<FakeSource>(schema, 100, true), 5, "sum")));
  // Node kinds it does not compare are never the same, even the same tree shape.
  auto s1 = *MakeSort(x, {SortKey{Column("b"), true, true}});
  auto s2 = *MakeSort(make(source, 5, "sum"), {SortKey{Column("b"), true, true}});
  EXPECT_FALSE(SameResult(s1, s2));
  EXPECT_TRUE(SameResult(s1, s1));  // but a node is its own result
}

}  // namespace
}  // namespace sluice::plan
