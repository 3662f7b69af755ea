#include "sluice/api/api.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {
TEST(Smoke, Basic) {
  auto session = *Session::Make();
  auto t = arrow::Table::Make(arrow::schema({arrow::field("a", arrow::int64())}),
                              {std::make_shared<arrow::ChunkedArray>(arrow::ArrayVector{})});
  auto f = session->from_arrow(t).filter(col("a") > 1).select({"a", (col("a") * 2).alias("b")});
  ASSERT_TRUE(f.ok()) << f.status();
}
}  // namespace
}  // namespace sluice
