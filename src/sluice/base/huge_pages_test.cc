#include "sluice/base/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

namespace sluice {
namespace {

TEST(HugeVector, LargeBuffersAreAlignedToHugePages) {
  HugeVector<int64_t> big(kHugePageMinBytes / sizeof(int64_t) + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data()) % kHugePageBytes, 0u);
  std::iota(big.begin(), big.end(), 0);
  EXPECT_EQ(big.back(), static_cast<int64_t>(big.size()) - 1);
  HugeVector<int64_t> small(16, 7);
  EXPECT_EQ(small[15], 7);
}

TEST(HugeVector, GrowsAcrossTheThresholdKeepingValues) {
  HugeVector<uint32_t> v;
  for (uint32_t i = 0; i < (kHugePageMinBytes / 4) * 3; ++i) v.push_back(i);
  for (uint32_t i = 0; i < v.size(); i += 4099) ASSERT_EQ(v[i], i);
  HugeVector<uint32_t>().swap(v);
  EXPECT_TRUE(v.empty());
}

}  // namespace
}  // namespace sluice
