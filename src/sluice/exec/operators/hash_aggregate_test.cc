#include "sluice/exec/operators/hash_aggregate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <unordered_set>

namespace sluice::exec {
namespace {

// Distinct values among `rows` uniform draws from `domain` values.
int64_t DrawDistinct(int64_t domain, int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, domain - 1);
  std::unordered_set<int64_t> seen;
  for (int64_t i = 0; i < rows; ++i) seen.insert(pick(rng));
  return static_cast<int64_t>(seen.size());
}

TEST(HashAggregateEstimateDistinct, RecoversTheDomainOfUniformDraws) {
  const int64_t rows = 1 << 18;
  for (int64_t domain : {1000, 30000, 250000, 1000000, 4000000}) {
    int64_t groups = DrawDistinct(domain, rows, 7 + domain);
    double d = HashAggregate::EstimateDistinct(groups, rows);
    EXPECT_NEAR(d / static_cast<double>(domain), 1.0, 0.1)
        << "domain " << domain << ": " << groups << " groups of " << rows << " rows";
  }
}

TEST(HashAggregateEstimateDistinct, EdgeCases) {
  EXPECT_EQ(HashAggregate::EstimateDistinct(0, 0), 0);
  EXPECT_EQ(HashAggregate::EstimateDistinct(5, 0), 5);
  EXPECT_TRUE(std::isinf(HashAggregate::EstimateDistinct(100, 100)));
  // One repeat in a million rows: far more values than rows.
  EXPECT_GT(HashAggregate::EstimateDistinct(999999, 1000000), 1e11);
  // Every row the same value.
  EXPECT_NEAR(HashAggregate::EstimateDistinct(1, 1000000), 1.0, 1e-6);
  // Monotone in the groups seen.
  double last = 0;
  for (int64_t g = 1; g < 1000; g += 37) {
    double d = HashAggregate::EstimateDistinct(g, 1000);
    EXPECT_GE(d, last);
    EXPECT_GE(d, static_cast<double>(g));
    last = d;
  }
}

// The decision MaybeFlush takes at kDecideRows: db-benchmark's 1 M groups of 100 M
// rows (650 K groups in the first 1 Mi rows) stay in one table; 10 M groups of 10 M
// rows go to segments.
TEST(HashAggregateEstimateDistinct, SegmentDecision) {
  const int64_t rows = HashAggregate::kDecideRows;
  auto segments = [&](int64_t domain) {
    int64_t groups = static_cast<int64_t>(std::llround(
        domain * -std::expm1(-static_cast<double>(rows) / static_cast<double>(domain))));
    return HashAggregate::EstimateDistinct(groups, rows) >
           HashAggregate::kSegmentDistinctRatio * static_cast<double>(rows);
  };
  EXPECT_FALSE(segments(100000));
  EXPECT_FALSE(segments(1000000));
  EXPECT_FALSE(segments(2000000));
  EXPECT_TRUE(segments(10000000));
  EXPECT_TRUE(segments(100000000));
}

}  // namespace
}  // namespace sluice::exec
