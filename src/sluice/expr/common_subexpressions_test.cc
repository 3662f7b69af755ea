#include "sluice/expr/common_subexpressions.h"

#include <arrow/array/builder_primitive.h>
#include <arrow/record_batch.h>
#include <gtest/gtest.h>

#include <random>

#include "sluice/expr/binder.h"
#include "sluice/expr/eval.h"

namespace sluice::expr {
namespace {

std::shared_ptr<arrow::RecordBatch> RandomBatch(int64_t n) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> d(-1000, 1000);
  arrow::ArrayVector cols;
  for (int c = 0; c < 4; ++c) {
    arrow::Int64Builder b;
    for (int64_t i = 0; i < n; ++i) {
      if (d(rng) % 17 == 0) {
        EXPECT_TRUE(b.AppendNull().ok());
      } else {
        EXPECT_TRUE(b.Append(d(rng)).ok());
      }
    }
    cols.push_back(b.Finish().ValueOrDie());
  }
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("b", arrow::int64()),
       arrow::field("c", arrow::int64()), arrow::field("d", arrow::int64())});
  return arrow::RecordBatch::Make(schema, n, cols);
}

Expr Lit(int64_t v) { return Literal(arrow::MakeScalar(v)); }

TEST(CommonSubexpressions, SharedPartsAreComputedOnceWithTheSameValues) {
  auto batch = RandomBatch(1000);
  // (a + b) * c appears twice, a + b a third time (inside it and alone), and
  // c - 1 twice inside different expressions.
  auto ab = Call("+", {Column("a"), Column("b")});
  auto abc = Call("*", {ab, Column("c")});
  std::vector<Expr> original = {
      abc,
      Call("+", {abc, Column("d")}),
      ab,
      Call("*", {Call("-", {Column("c"), Lit(1)}), Column("a")}),
      Call("*", {Call("-", {Column("c"), Lit(1)}), Column("d")}),
      Column("d")};
  for (auto& e : original) e = Bind(e, *batch->schema()).ValueOrDie();
  std::vector<Expr> rewritten = original;
  auto shared = ExtractCommonSubexpressions(&rewritten, batch->num_columns());
  ASSERT_EQ(shared.size(), 3u);  // (a + b) * c, a + b, c - 1
  auto widened = batch;
  for (const auto& e : shared) {
    auto col = EvaluateToArray(e, *widened).ValueOrDie();
    widened = widened->AddColumn(widened->num_columns(), "s", col).ValueOrDie();
  }
  for (size_t i = 0; i < original.size(); ++i) {
    auto want = EvaluateToArray(original[i], *batch).ValueOrDie();
    auto got = EvaluateToArray(rewritten[i], *widened).ValueOrDie();
    EXPECT_TRUE(got->Equals(*want)) << i << ": " << ToString(rewritten[i]);
  }
  // The first two expressions now read the shared column instead of recomputing.
  EXPECT_EQ(rewritten[0]->kind, ExprKind::kColumn);
  EXPECT_EQ(rewritten[2]->kind, ExprKind::kColumn);
}

TEST(CommonSubexpressions, NothingSharedLeavesTheExpressionsAlone) {
  auto batch = RandomBatch(10);
  std::vector<Expr> exprs = {Call("+", {Column("a"), Column("b")}),
                             Call("+", {Column("b"), Column("a")}), Column("a")};
  for (auto& e : exprs) e = Bind(e, *batch->schema()).ValueOrDie();
  auto before = exprs;
  EXPECT_TRUE(ExtractCommonSubexpressions(&exprs, 4).empty());
  for (size_t i = 0; i < exprs.size(); ++i) EXPECT_EQ(exprs[i], before[i]);
}

}  // namespace
}  // namespace sluice::expr
