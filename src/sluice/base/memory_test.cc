#include "sluice/base/memory.h"

#include <arrow/api.h>
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

namespace sluice {
namespace {

// Slices count their own range: the morsels an aggregate hands out of one result batch
// add up to that batch once, not once each (that inflated a 2.7 GB query to 23 GB).
TEST(ArrayMemoryTest, SlicesCountTheirShare) {
  arrow::Int64Builder ints;
  arrow::StringBuilder strings;
  for (int64_t i = 0; i < 100000; ++i) {
    ASSERT_TRUE(ints.Append(i).ok());
    ASSERT_TRUE(strings.Append("value-" + std::to_string(i)).ok());
  }
  auto a = ints.Finish().ValueOrDie();
  auto s = strings.Finish().ValueOrDie();
  auto batch = arrow::RecordBatch::Make(arrow::schema({arrow::field("a", arrow::int64()),
                                                       arrow::field("s", arrow::utf8())}),
                                        a->length(), {a, s});
  const int64_t whole = BatchMemory(*batch);
  EXPECT_GE(whole, 100000 * 8);
  int64_t slices = 0;
  for (int64_t off = 0; off < batch->num_rows(); off += 10000) {
    slices += BatchMemory(*batch->Slice(off, 10000));
  }
  // Each string slice also counts its share of the offsets (one extra offset each).
  EXPECT_LE(slices, whole + 10 * 2 * 8);
  EXPECT_GE(slices, whole - 10 * 2 * 8);
}

}  // namespace
}  // namespace sluice
