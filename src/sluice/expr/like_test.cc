#include "sluice/expr/like.h"

#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include <random>

namespace sluice::expr {
namespace {

TEST(Like, PiecesAndAnchors) {
  auto p = ParsePercentPattern("%special%requests%");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->anchored_start);
  EXPECT_FALSE(p->anchored_end);
  EXPECT_EQ(p->pieces, (std::vector<std::string>{"special", "requests"}));
  EXPECT_FALSE(ParsePercentPattern("a_c"));
  EXPECT_FALSE(ParsePercentPattern("50\\%"));
  EXPECT_TRUE(MatchesPercentPattern(*p, "a special deposit requests"));
  EXPECT_FALSE(MatchesPercentPattern(*p, "requests special"));
  EXPECT_TRUE(MatchesPercentPattern(*ParsePercentPattern(""), ""));
  EXPECT_FALSE(MatchesPercentPattern(*ParsePercentPattern(""), "x"));
  EXPECT_TRUE(MatchesPercentPattern(*ParsePercentPattern("%"), ""));
  EXPECT_FALSE(MatchesPercentPattern(*ParsePercentPattern("ab%b"), "ab"));
  EXPECT_TRUE(MatchesPercentPattern(*ParsePercentPattern("ab%b"), "abb"));
  EXPECT_FALSE(MatchesPercentPattern(*ParsePercentPattern("aa%aa"), "aaa"));
}

// Random strings over a small alphabet and random '%' patterns: the same verdicts as
// Arrow's match_like, NULLs staying NULL, on sliced arrays too.
TEST(Like, AgreesWithArrowOnRandomPatterns) {
  std::mt19937_64 rng(11);
  const std::string alphabet = "ab%";
  auto text = [&](int max_len, bool wild) {
    std::string s;
    int len = static_cast<int>(rng() % (max_len + 1));
    for (int i = 0; i < len; ++i) s += alphabet[rng() % (wild ? 3 : 2)];
    return s;
  };
  arrow::StringBuilder b;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE((rng() % 20 == 0 ? b.AppendNull() : b.Append(text(8, false))).ok());
  }
  auto strings = b.Finish().ValueOrDie()->Slice(7);
  for (int k = 0; k < 300; ++k) {
    const std::string pattern = text(6, true);
    auto p = ParsePercentPattern(pattern);
    ASSERT_TRUE(p) << pattern;
    auto ours = LikePercent(*p, *strings).ValueOrDie();
    arrow::compute::MatchSubstringOptions o(pattern, false);
    auto theirs = arrow::compute::CallFunction("match_like", {strings}, &o).ValueOrDie();
    ASSERT_TRUE(ours->Equals(*theirs.make_array())) << "pattern '" << pattern << "'";
  }
}

}  // namespace
}  // namespace sluice::expr
