#pragma once
// Random numbers for the synthetic data generators.
//
// Contract: every sequence here depends only on its seed and on IEEE-754 double
// arithmetic, never on the standard library's distributions (whose output differs
// between libstdc++/libc++ versions) nor on thread scheduling. A generator that seeds
// one Rng per chunk with ChunkSeed(seed, stream, chunk) therefore produces the same
// data with any number of threads.
//
// Thread-safety: Rng is a value type with no shared state; use one per chunk/thread.
// AliasTable and PowerLawSampler are immutable after construction and may be shared.
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::generator {

/// One step of SplitMix64 (Steele, Lea, Flood 2014): advances `state` and returns a
/// well-mixed 64-bit value. Used for seeding and as a stateless hash.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A stateless hash of (a, b): for per-entity attributes that must be computable
/// anywhere (e.g. a user's signup date, needed by the users and the orders writer).
inline uint64_t Hash64(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xd1342543de82ef95ULL);
  SplitMix64(s);
  return SplitMix64(s);
}

/// The seed of chunk `chunk` of output stream `stream` (e.g. 1 = orders, 2 = users).
inline uint64_t ChunkSeed(uint64_t seed, uint64_t stream, uint64_t chunk) {
  return Hash64(Hash64(seed, stream), chunk);
}

/// Maps a 64-bit value to [0, 1) with 53 bits of precision.
inline double ToUnitDouble(uint64_t x) {
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

/// xoshiro256** 1.0 (Blackman, Vigna 2018), seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& word : s_) word = SplitMix64(sm);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1).
  double NextDouble() { return ToUnitDouble(Next()); }

  /// Uniform in [0, n) for n >= 1 (multiply-shift; the bias of at most n / 2^64 is
  /// irrelevant for synthetic data).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  /// True with probability p.
  bool Bernoulli(double p) { return NextDouble() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

/// Samples index i in [0, n) with probability weights[i] / sum(weights) in O(1)
/// (Vose's alias method), using one Rng::Next() per sample.
class AliasTable {
 public:
  /// REQUIRES: weights non-empty, all >= 0, sum > 0, size < 2^32.
  explicit AliasTable(const std::vector<double>& weights);

  int64_t size() const { return static_cast<int64_t>(threshold_.size()); }

  uint32_t Sample(Rng& rng) const {
    const uint64_t r = rng.Next();
    // High 32 bits pick the column, low 32 bits toss the column's coin.
    const uint32_t column = static_cast<uint32_t>(((r >> 32) * threshold_.size()) >> 32);
    return static_cast<uint32_t>(r) < threshold_[column] ? column : alias_[column];
  }

 private:
  std::vector<uint64_t>
      threshold_;  // coin threshold in [0, 2^32]: keep `column` below it
  std::vector<uint32_t> alias_;
};

/// Skewed ids: samples a rank in [1, n] with density proportional to rank^-exponent
/// (a continuous bounded power law, rounded down: Zipf-like), then maps the rank to an
/// id in [1, n] by a fixed pseudo-random bijection so that the popular ids are spread
/// over the id range instead of being 1, 2, 3, ...
class PowerLawSampler {
 public:
  /// REQUIRES: n >= 1, 0 <= exponent < 1.
  PowerLawSampler(int64_t n, double exponent, uint64_t seed);

  int64_t n() const { return n_; }

  int64_t Sample(Rng& rng) const { return IdOfRank(SampleRank(rng)); }

  /// A rank in [1, n]; rank 1 is the most likely.
  int64_t SampleRank(Rng& rng) const;
  /// The id of a rank (a bijection on [1, n]).
  int64_t IdOfRank(int64_t rank) const {
    const auto r = static_cast<uint64_t>(rank - 1);
    const auto n = static_cast<uint64_t>(n_);
    if (n <=
        (uint64_t{1} << 32)) {  // r * multiplier + offset < 2^64: no 128-bit division
      return static_cast<int64_t>((r * multiplier_ + offset_) % n) + 1;
    }
    return static_cast<int64_t>(
               (static_cast<unsigned __int128>(r) * multiplier_ + offset_) % n) +
           1;
  }

 private:
  int64_t n_;
  double inverse_exponent_;  // 1 / (1 - exponent)
  int integer_power_;        // inverse_exponent_ when it is a small integer, else 0
  double span_;              // (n + 1)^(1 - exponent) - 1
  uint64_t multiplier_;      // coprime to n
  uint64_t offset_;
};

}  // namespace sluice::generator
