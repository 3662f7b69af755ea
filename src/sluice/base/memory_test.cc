#include "sluice/base/memory.h"

#include <gtest/gtest.h>

namespace sluice {

TEST(MemoryBudget, ReservationFailsWithOwnerName) {
  MemoryBudget budget(1000);
  MemoryReservation a(&budget, "HashAggregate");
  ASSERT_TRUE(a.Grow(600).ok());
  MemoryReservation b(&budget, "Sort");
  Status st = b.Grow(600);
  ASSERT_TRUE(st.IsOutOfMemory());
  EXPECT_NE(st.message().find("memory limit exceeded in Sort"), std::string::npos);
  EXPECT_EQ(budget.used(), 600);
  a.Clear();
  ASSERT_TRUE(b.Grow(600).ok());
  EXPECT_EQ(budget.peak(), 600);
  EXPECT_EQ(b.peak(), 600);
}

TEST(MemoryBudget, ReleasedOnDestruction) {
  MemoryBudget budget(0);
  {
    MemoryReservation r(&budget, "x");
    ASSERT_TRUE(r.Grow(1 << 20).ok());
    EXPECT_EQ(budget.used(), 1 << 20);
  }
  EXPECT_EQ(budget.used(), 0);
}

TEST(ByteSize, Parses) {
  EXPECT_EQ(*ParseByteSize("512MiB"), 512LL << 20);
  EXPECT_EQ(*ParseByteSize("2GB"), 2000000000LL);
  EXPECT_EQ(*ParseByteSize("100"), 100);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("5 parsecs").ok());
  EXPECT_GT(*ParseByteSize("50%"), 0);
}

}  // namespace sluice
