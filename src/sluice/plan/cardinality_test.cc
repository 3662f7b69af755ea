#include "sluice/plan/cardinality.h"

#include <gtest/gtest.h>

#include <map>

#include "sluice/plan/plan_builder.h"

namespace sluice::plan {
namespace {

using expr::Call;
using expr::Column;
using expr::Literal;

// A source with a row count and, per column, a distinct-value bound.
class StatsSource : public TableSource {
 public:
  StatsSource(int64_t rows, std::map<int, int64_t> distinct)
      : rows_(rows), distinct_(std::move(distinct)) {}
  std::string Describe() const override { return "stats"; }
  std::shared_ptr<arrow::Schema> schema() const override {
    return arrow::schema(
        {arrow::field("k", arrow::int64()), arrow::field("name", arrow::utf8())});
  }
  std::optional<int64_t> EstimatedRows() const override { return rows_; }
  std::optional<int64_t> EstimatedDistinct(int column) const override {
    auto it = distinct_.find(column);
    if (it == distinct_.end()) return std::nullopt;
    return it->second;
  }

 private:
  int64_t rows_;
  std::map<int, int64_t> distinct_;
};

Plan Table(int64_t rows, std::map<int, int64_t> distinct) {
  return MakeScan(std::make_shared<StatsSource>(rows, std::move(distinct)));
}

Plan NameIs(Plan input) {
  return *MakeFilter(std::move(input),
                     Call("=", {Column("name"), Literal(arrow::MakeScalar("x"))}));
}

Plan Join(Plan left, Plan right, JoinType type) {
  auto j =
      MakeJoin(std::move(left), std::move(right), type, {Column("k")}, {Column("k")});
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  return *j;
}

TEST(Cardinality, AFilterOnTheKeySideOfAKeyJoinCarriesThrough) {
  // 6 M facts over 10,000 keys; the dimension's filter keeps a tenth of its keys.
  Plan fact = Table(6000000, {{0, 10000}});
  Plan dim = NameIs(Table(10000, {{0, 10000}}));
  EXPECT_DOUBLE_EQ(EstimateRows(Join(fact, dim, JoinType::kInner)), 600000);
  // Unfiltered: every fact finds its key.
  EXPECT_DOUBLE_EQ(EstimateRows(Join(fact, Table(10000, {{0, 10000}}), JoinType::kInner)),
                   6000000);
  // A left join keeps at least its left side.
  EXPECT_DOUBLE_EQ(EstimateRows(Join(fact, dim, JoinType::kLeft)), 6000000);
}

TEST(Cardinality, SemiAndAntiJoinsSplitTheLeftRowsByTheRightKeysPresent) {
  Plan left = Table(1000, {{0, 1000}});
  Plan right = NameIs(Table(50000, {{0, 1000}}));  // 5,000 rows over 1,000 keys
  EXPECT_DOUBLE_EQ(EstimateRows(Join(left, right, JoinType::kSemi)), 1000);
  Plan sparse = NameIs(Table(2000, {{0, 2000}}));  // 200 rows: a tenth of the keys
  EXPECT_DOUBLE_EQ(EstimateRows(Join(left, sparse, JoinType::kSemi)), 100);
  EXPECT_DOUBLE_EQ(EstimateRows(Join(left, sparse, JoinType::kAnti)), 900);
}

TEST(Cardinality, WithoutDistinctCountsAJoinGivesItsLargerInput) {
  EXPECT_DOUBLE_EQ(EstimateRows(Join(Table(500, {}), Table(7000, {}), JoinType::kInner)),
                   7000);
  EXPECT_DOUBLE_EQ(EstimateRows(Join(Table(500, {}), Table(7000, {}), JoinType::kSemi)),
                   500);
}

TEST(Cardinality, AggregatesHaveTheirKeysDistinctValuesAndKeysStayUnique) {
  auto agg = MakeAggregate(Table(6000000, {{0, 25}}), {Column("k")}, {});
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  EXPECT_DOUBLE_EQ(EstimateRows(*agg), 25);
  EXPECT_EQ(EstimateDistinct(*agg, 0), 25);
  // Unknown distinct counts: a tenth of the input.
  auto agg2 = MakeAggregate(Table(6000000, {}), {Column("name")}, {});
  ASSERT_TRUE(agg2.ok());
  EXPECT_DOUBLE_EQ(EstimateRows(*agg2), 600000);
  // Distinct counts pass through filters and joins to the column's source.
  Plan j = Join(Table(100, {{0, 80}}), Table(10, {{0, 7}}), JoinType::kInner);
  EXPECT_EQ(EstimateDistinct(j, 0), 80);
  EXPECT_EQ(EstimateDistinct(j, 2), 7);
  EXPECT_EQ(EstimateDistinct(NameIs(Table(100, {{0, 80}})), 0), 80);
}

TEST(Cardinality, AKeyOfItsTableDividesAJoinWithAnOverestimatedForeignKey) {
  // 6 M line items whose order key spans 6 M values (min/max) though there are 1.5 M
  // orders, each order key unique: every line item finds its order.
  Plan items = Table(6000000, {{0, 6000000}});
  Plan orders = Table(1500000, {{0, 1500000}});
  EXPECT_DOUBLE_EQ(EstimateRows(Join(items, orders, JoinType::kInner)), 6000000);
  // A filter on the orders carries through.
  EXPECT_DOUBLE_EQ(EstimateRows(Join(items, NameIs(orders), JoinType::kInner)), 600000);
  EXPECT_TRUE(EstimateKeyStats(orders, 0).unique());
  EXPECT_FALSE(EstimateKeyStats(Table(6000000, {{0, 200000}}), 0).unique());
  // Neither side a key: the larger distinct count.
  EXPECT_DOUBLE_EQ(JoinKeyDivisor(KeyStats{300, 1000}, KeyStats{700, 5000}), 700);
  EXPECT_DOUBLE_EQ(JoinKeyDivisor(KeyStats{}, KeyStats{}), 0);
}

}  // namespace
}  // namespace sluice::plan

namespace sluice::plan {
namespace {

TEST(Cardinality, APrefixPatternSelectsLikeAnEquality) {
  auto like = [](const char* pattern) {
    return EstimateRows(
        *MakeFilter(Table(1000, {}),
                    Call("like", {Column("name"), Literal(arrow::MakeScalar(pattern))})));
  };
  EXPECT_DOUBLE_EQ(like("forest%"), 100);
  EXPECT_DOUBLE_EQ(like("%green%"), 500);
  EXPECT_DOUBLE_EQ(like("_x%"), 500);
}

TEST(Cardinality, AnEqualityWithAConstantKeepsOneOfTheColumnsValues) {
  // k has 50 distinct values (p_size), name has no known count.
  Plan t = Table(1000, {{0, 50}});
  auto kept = [&](expr::Expr predicate) {
    return EstimateRows(*MakeFilter(t, std::move(predicate)));
  };
  auto k = [] { return Column("k"); };
  auto lit = [](int64_t v) { return Literal(arrow::MakeScalar(v)); };
  EXPECT_DOUBLE_EQ(kept(Call("=", {k(), lit(15)})), 20);
  EXPECT_DOUBLE_EQ(kept(Call("=", {lit(15), k()})), 20);
  EXPECT_DOUBLE_EQ(kept(Call("in", {k(), lit(1), lit(2), lit(3)})), 60);
  EXPECT_DOUBLE_EQ(kept(Call("=", {Column("name"), Literal(arrow::MakeScalar("x"))})),
                   100);
  // Never under 1 % of the input.
  EXPECT_DOUBLE_EQ(
      EstimateRows(*MakeFilter(Table(100000, {{0, 1000000}}), Call("=", {k(), lit(7)}))),
      1000);
}

TEST(Cardinality, ASemiJoinWithFewerDistinctKeysOnTheRightKeepsAtMostThose) {
  // An IN list of 40 keys against a column of 5,000 values keeps about 40 of them.
  Plan left = Table(5000, {{0, 5000}});
  Plan right = Table(40, {{0, 40}});
  EXPECT_DOUBLE_EQ(EstimateRows(Join(left, right, JoinType::kSemi)), 40);
  EXPECT_DOUBLE_EQ(EstimateRows(Join(left, right, JoinType::kAnti)), 4960);
}

}  // namespace
}  // namespace sluice::plan
