#include "sluice/connector/generator/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace sluice::generator {
namespace {

TEST(SplitMix64, MatchesReferenceOutput) {
  // First outputs of the reference implementation (Vigna's splitmix64.c) from seed 0.
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(SplitMix64(state), 0x6e789e6aa1b965f4ULL);
}

TEST(Rng, SameSeedSameSequenceDifferentSeedDifferentSequence) {
  Rng a(7), b(7), c(8);
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differ += x != c.Next();
  }
  EXPECT_EQ(differ, 100);
}

TEST(Rng, BelowAndDoubleStayInRange) {
  Rng rng(1);
  std::vector<int> counts(7);
  for (int i = 0; i < 70000; ++i) {
    const uint64_t v = rng.Below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
    const double d = rng.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(ChunkSeed, DependsOnEveryPart) {
  std::set<uint64_t> seeds;
  for (uint64_t seed : {0, 1}) {
    for (uint64_t stream : {0, 1}) {
      for (uint64_t chunk : {0, 1, 2}) seeds.insert(ChunkSeed(seed, stream, chunk));
    }
  }
  EXPECT_EQ(seeds.size(), 12u);
}

TEST(AliasTable, FrequenciesFollowWeights) {
  const std::vector<double> weights = {70, 15, 10, 5, 0};
  AliasTable table(weights);
  Rng rng(3);
  std::vector<int> counts(weights.size());
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++counts[table.Sample(rng)];
  EXPECT_EQ(counts[4], 0);
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_NEAR(counts[i] / static_cast<double>(n), weights[i] / 100, 0.005) << i;
  }
}

TEST(AliasTable, SingleWeight) {
  AliasTable table({2.5});
  Rng rng(3);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(table.Sample(rng), 0u);
}

TEST(PowerLawSampler, IdOfRankIsABijection) {
  for (int64_t n : {1, 2, 3, 10, 97, 100, 1024, 5000}) {
    PowerLawSampler sampler(n, 0.8, 42);
    std::vector<bool> seen(n + 1);
    for (int64_t rank = 1; rank <= n; ++rank) {
      const int64_t id = sampler.IdOfRank(rank);
      ASSERT_GE(id, 1);
      ASSERT_LE(id, n);
      ASSERT_FALSE(seen[id]) << "n=" << n << " id=" << id;
      seen[id] = true;
    }
  }
}

TEST(PowerLawSampler, IsSkewedAndInRange) {
  const int64_t n = 1000;
  PowerLawSampler sampler(n, 0.8, 42);
  Rng rng(5);
  std::vector<int64_t> counts(n + 1);
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) {
    const int64_t rank = sampler.SampleRank(rng);
    ASSERT_GE(rank, 1);
    ASSERT_LE(rank, n);
    ++counts[rank];
  }
  int64_t top10 = 0;
  for (int64_t r = 1; r <= 10; ++r) top10 += counts[r];
  // Uniform would give 1%; density x^-0.8 gives (11^0.2 - 1) / (1001^0.2 - 1) ~ 16%.
  EXPECT_GT(top10, draws / 10);
  EXPECT_LT(top10, draws / 4);
  EXPECT_GT(counts[1], counts[100] * 5);
}

}  // namespace
}  // namespace sluice::generator
