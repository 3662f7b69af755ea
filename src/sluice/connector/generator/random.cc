#include "sluice/connector/generator/random.h"

#include <arrow/util/logging.h>

#include <cmath>
#include <numeric>

namespace sluice::generator {

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  ARROW_DCHECK_GT(n, 0u);
  double sum = 0;
  for (double w : weights) sum += w;
  ARROW_DCHECK_GT(sum, 0.0);
  // Vose: scale to mean 1, pair each "small" column with a "large" donor.
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  threshold_.assign(n, uint64_t{1} << 32);
  alias_.resize(n);
  for (size_t i = 0; i < n; ++i) alias_[i] = static_cast<uint32_t>(i);
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    threshold_[s] = static_cast<uint64_t>(std::llround(scaled[s] * 4294967296.0));
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers (rounding) keep their own column with probability 1: the defaults.
}

PowerLawSampler::PowerLawSampler(int64_t n, double exponent, uint64_t seed) : n_(n) {
  ARROW_DCHECK_GE(n, 1);
  ARROW_DCHECK(exponent >= 0 && exponent < 1);
  inverse_exponent_ = 1.0 / (1.0 - exponent);
  // 1 / (1 - 0.8) = 5 and 1 / (1 - 0.9) = 10 (up to rounding): multiply instead of pow().
  const double rounded = std::round(inverse_exponent_);
  integer_power_ = std::abs(inverse_exponent_ - rounded) < 1e-9 && rounded <= 16
                       ? static_cast<int>(rounded)
                       : 0;
  span_ = std::pow(static_cast<double>(n) + 1.0, 1.0 - exponent) - 1.0;
  const auto un = static_cast<uint64_t>(n);
  if (un <= 2) {
    multiplier_ = 1;
  } else {
    // A seed-dependent multiplier >= 2 and coprime to n makes rank -> id a bijection.
    uint64_t m = Hash64(seed, un) % un;
    while (m < 2 || std::gcd(m, un) != 1) m = (m + 1) % un;
    multiplier_ = m;
  }
  offset_ = Hash64(seed ^ 0x5bd1e995ULL, un) % un;
}

int64_t PowerLawSampler::SampleRank(Rng& rng) const {
  // Inverse CDF of the density x^-a on [1, n + 1).
  const double base = 1.0 + rng.NextDouble() * span_;
  double x;
  if (integer_power_ > 0) {
    x = base;
    for (int i = 1; i < integer_power_; ++i) x *= base;
  } else {
    x = std::pow(base, inverse_exponent_);
  }
  const auto rank = static_cast<int64_t>(x);
  return rank < 1 ? 1 : (rank > n_ ? n_ : rank);
}

}  // namespace sluice::generator
