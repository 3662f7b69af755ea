#include "sluice/exec/key_index.h"

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace sluice::exec {
namespace {

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                        \
  auto SLUICE_CONCAT(result_, __LINE__) = (expr);              \
  ASSERT_TRUE(SLUICE_CONCAT(result_, __LINE__).ok())           \
      << SLUICE_CONCAT(result_, __LINE__).status().ToString(); \
  lhs = std::move(SLUICE_CONCAT(result_, __LINE__)).ValueOrDie()

// A key as the reference sees it: nullopt for NULL, else the value as text.
using RefKey = std::optional<std::string>;

std::vector<RefKey> RefKeys(const arrow::Array& a) {
  std::vector<RefKey> out;
  for (int64_t i = 0; i < a.length(); ++i) {
    auto s = a.GetScalar(i).ValueOrDie();
    out.push_back(s->is_valid ? RefKey(s->ToString()) : std::nullopt);
  }
  return out;
}

template <typename Builder, typename Gen>
std::shared_ptr<arrow::Array> MakeColumn(std::shared_ptr<arrow::DataType> type, int64_t n,
                                         double null_share, Gen gen,
                                         std::mt19937_64* rng) {
  Builder b(type, arrow::default_memory_pool());
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t i = 0; i < n; ++i) {
    if (u(*rng) < null_share) {
      EXPECT_TRUE(b.AppendNull().ok());
    } else {
      EXPECT_TRUE(b.Append(gen()).ok());
    }
  }
  return b.Finish().ValueOrDie();
}

// Inserts `batches` with Nulls::kGroup and checks ids against a reference map: equal
// keys get equal ids, new keys the next id; then the key columns, Find before and after
// Seal, and InsertAll into a second index.
void CheckIndex(const std::vector<std::shared_ptr<arrow::Array>>& batches) {
  auto type = batches[0]->type();
  ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({type}));
  std::map<RefKey, uint32_t> ref;
  std::vector<RefKey> by_id;
  for (const auto& b : batches) {
    std::vector<uint32_t> ids(b->length());
    ASSERT_TRUE(index->Insert({b}, KeyIndex::Nulls::kGroup, ids.data()).ok());
    auto keys = RefKeys(*b);
    for (size_t i = 0; i < keys.size(); ++i) {
      auto [it, inserted] = ref.emplace(keys[i], static_cast<uint32_t>(by_id.size()));
      if (inserted) by_id.push_back(keys[i]);
      ASSERT_EQ(ids[i], it->second) << "row " << i << " key " << keys[i].value_or("NULL");
    }
  }
  ASSERT_EQ(index->size(), static_cast<int64_t>(by_id.size()));
  ASSERT_OK_AND_ASSIGN(auto cols, index->KeyColumns(arrow::default_memory_pool()));
  ASSERT_EQ(cols.size(), 1u);
  ASSERT_TRUE(cols[0]->type()->Equals(*type));
  ASSERT_EQ(RefKeys(*cols[0]), by_id);

  // A second index fed the last batch first, then merged from the first one.
  ASSERT_OK_AND_ASSIGN(auto other, KeyIndex::Make({type}));
  std::vector<uint32_t> scratch_ids(batches.back()->length());
  ASSERT_TRUE(
      other->Insert({batches.back()}, KeyIndex::Nulls::kGroup, scratch_ids.data()).ok());
  std::vector<uint32_t> mapping(index->size());
  ASSERT_TRUE(other->InsertAll(*index, mapping.data()).ok());
  ASSERT_OK_AND_ASSIGN(auto other_cols, other->KeyColumns(arrow::default_memory_pool()));
  auto other_keys = RefKeys(*other_cols[0]);
  for (size_t g = 0; g < by_id.size(); ++g) ASSERT_EQ(other_keys[mapping[g]], by_id[g]);

  // Partitioned merges: a key has the same partition in both indexes, and merging
  // partition p of both into index p puts every key in exactly one of them.
  constexpr int kParts = 4;
  std::vector<uint8_t> part_a(index->size()), part_b(other->size());
  index->Partitions(kParts, part_a.data());
  other->Partitions(kParts, part_b.data());
  std::map<RefKey, int> part_of_key;
  for (size_t g = 0; g < by_id.size(); ++g) {
    ASSERT_LT(part_a[g], kParts);
    part_of_key[by_id[g]] = part_a[g];
  }
  for (size_t g = 0; g < other_keys.size(); ++g) {
    auto it = part_of_key.find(other_keys[g]);
    if (it != part_of_key.end()) {
      ASSERT_EQ(part_b[g], it->second);
    }
  }
  std::map<RefKey, int> seen;
  for (int p = 0; p < kParts; ++p) {
    ASSERT_OK_AND_ASSIGN(auto merged, KeyIndex::Make({type}));
    std::vector<uint32_t> map_a(index->size()), map_b(other->size());
    ASSERT_TRUE(merged->InsertAll(*index, map_a.data(), part_a.data(), p).ok());
    ASSERT_TRUE(merged->InsertAll(*other, map_b.data(), part_b.data(), p).ok());
    ASSERT_OK_AND_ASSIGN(auto merged_cols,
                         merged->KeyColumns(arrow::default_memory_pool()));
    auto merged_keys = RefKeys(*merged_cols[0]);
    for (const auto& k : merged_keys) ASSERT_TRUE(seen.emplace(k, p).second);
    for (size_t g = 0; g < by_id.size(); ++g) {
      if (part_a[g] == p) {
        ASSERT_EQ(merged_keys[map_a[g]], by_id[g]);
      } else {
        ASSERT_EQ(map_a[g], KeyIndex::kSkipped);
      }
    }
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(other->size()));

  // Find: the same ids, -1 for NULL (never matched) and for absent keys.
  for (int sealed = 0; sealed < 2; ++sealed) {
    if (sealed) {
      ASSERT_TRUE(index->Seal().ok());
    }
    ProbeScratch scratch;
    for (const auto& b : batches) {
      std::vector<int64_t> ids(b->length());
      ASSERT_TRUE(index->Find({b}, &scratch, ids.data()).ok());
      auto keys = RefKeys(*b);
      for (size_t i = 0; i < keys.size(); ++i) {
        int64_t want = keys[i] ? static_cast<int64_t>(ref[keys[i]]) : -1;
        ASSERT_EQ(ids[i], want) << "sealed " << sealed << " row " << i;
      }
    }
  }
}

TEST(KeyIndexTest, IntegerKeysDenseAndSparse) {
  std::mt19937_64 rng(7);
  for (int64_t domain : {int64_t{50}, int64_t{100000}, int64_t{1} << 40}) {
    for (double nulls : {0.0, 0.05}) {
      std::uniform_int_distribution<int64_t> d(-domain / 2, domain);
      std::vector<std::shared_ptr<arrow::Array>> batches;
      for (int b = 0; b < 4; ++b) {
        batches.push_back(MakeColumn<arrow::Int64Builder>(
            arrow::int64(), 3000, nulls, [&] { return d(rng); }, &rng));
      }
      SCOPED_TRACE("domain " + std::to_string(domain));
      CheckIndex(batches);
    }
  }
}

TEST(KeyIndexTest, RunsOfEqualKeysWithNullsBetween) {
  // Sorted input repeats keys; the index short-cuts runs, which must not carry an id
  // across a NULL or into the next distinct key.
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> run(1, 6);
  std::uniform_int_distribution<int64_t> step(0, 2);
  int64_t key = 0;
  int left = 0;
  std::vector<std::shared_ptr<arrow::Array>> batches;
  for (int b = 0; b < 3; ++b) {
    batches.push_back(MakeColumn<arrow::Int64Builder>(
        arrow::int64(), 2000, 0.1,
        [&] {
          if (left-- <= 0) {
            key += step(rng);
            left = run(rng);
          }
          return key;
        },
        &rng));
  }
  CheckIndex(batches);
}

TEST(KeyIndexTest, NarrowAndUnsignedAndTemporalKeys) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> small(-128, 127);
  std::uniform_int_distribution<uint64_t> big;
  std::vector<std::shared_ptr<arrow::Array>> i8, u64, dates;
  for (int b = 0; b < 3; ++b) {
    i8.push_back(MakeColumn<arrow::Int8Builder>(
        arrow::int8(), 500, 0.1, [&] { return static_cast<int8_t>(small(rng)); }, &rng));
    // Values above 2^63 must stay distinct from negative int64 of the same bits' type.
    u64.push_back(MakeColumn<arrow::UInt64Builder>(
        arrow::uint64(), 500, 0.1, [&] { return big(rng) | (uint64_t{1} << 63); }, &rng));
    dates.push_back(MakeColumn<arrow::Date32Builder>(
        arrow::date32(), 500, 0.1, [&] { return 10000 + small(rng); }, &rng));
  }
  CheckIndex(i8);
  CheckIndex(u64);
  CheckIndex(dates);
}

TEST(KeyIndexTest, StringKeys) {
  // NULL and the empty string are different keys.
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> d(0, 300);
  auto value = [&] {
    int v = d(rng);
    return v < 10 ? std::string() : "k" + std::to_string(v);
  };
  std::vector<std::shared_ptr<arrow::Array>> plain, large, views, binary;
  for (int b = 0; b < 3; ++b) {
    plain.push_back(
        MakeColumn<arrow::StringBuilder>(arrow::utf8(), 2000, 0.05, value, &rng));
    large.push_back(MakeColumn<arrow::LargeStringBuilder>(arrow::large_utf8(), 2000, 0.05,
                                                          value, &rng));
    views.push_back(MakeColumn<arrow::StringViewBuilder>(arrow::utf8_view(), 2000, 0.05,
                                                         value, &rng));
    binary.push_back(
        MakeColumn<arrow::BinaryBuilder>(arrow::binary(), 2000, 0.05, value, &rng));
  }
  CheckIndex(plain);
  CheckIndex(large);
  CheckIndex(views);
  CheckIndex(binary);
  // Keys of up to 15 bytes are compared padded in 16 bytes, until a longer one comes:
  // lengths 0-24, with keys that differ only in their last byte or their length.
  std::uniform_int_distribution<int> len(0, 24);
  auto varied = [&] {
    std::string v(static_cast<size_t>(len(rng)), 'x');
    if (!v.empty() && d(rng) % 2) v.back() = 'y';
    return v;
  };
  std::vector<std::shared_ptr<arrow::Array>> crossing;
  std::uniform_int_distribution<int> short_len(0, 15);
  auto shorter = [&] {
    std::string v(static_cast<size_t>(short_len(rng)), 'x');
    if (!v.empty() && d(rng) % 2) v.back() = 'y';
    return v;
  };
  crossing.push_back(
      MakeColumn<arrow::StringBuilder>(arrow::utf8(), 500, 0.02, shorter, &rng));
  crossing.push_back(
      MakeColumn<arrow::StringBuilder>(arrow::utf8(), 500, 0.02, varied, &rng));
  crossing.push_back(
      MakeColumn<arrow::StringBuilder>(arrow::utf8(), 500, 0.02, shorter, &rng));
  CheckIndex(crossing);
}

TEST(KeyIndexTest, NullAndTheEmptyStringStayApartInAFullTable) {
  // NULL's hash once differed from the empty string's in the lowest bit only: the same
  // tag, the same (empty) key bytes, and neighbouring home slots. Once the table is
  // full enough that those slots are taken, a probe for one met the other. So: many
  // keys first, then NULLs and empty strings.
  for (uint64_t seed = 0; seed < 8; ++seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> d(0, 1 << 30);
    bool empties = false;
    auto value = [&] {
      return empties && d(rng) % 2 == 0 ? std::string() : "k" + std::to_string(d(rng));
    };
    std::vector<std::shared_ptr<arrow::Array>> batches;
    batches.push_back(
        MakeColumn<arrow::StringBuilder>(arrow::utf8(), 3000, 0, value, &rng));
    empties = true;
    batches.push_back(
        MakeColumn<arrow::StringBuilder>(arrow::utf8(), 20, 0.5, value, &rng));
    CheckIndex(batches);
  }
}

TEST(KeyIndexTest, SkipNullsLeavesThemOut) {
  arrow::Int32Builder b;
  ASSERT_TRUE(b.AppendValues({5, 6, 5}).ok());
  ASSERT_TRUE(b.AppendNull().ok());
  ASSERT_OK_AND_ASSIGN(auto arr, b.Finish());
  ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({arrow::int32()}));
  std::vector<uint32_t> ids(4);
  ASSERT_TRUE(index->Insert({arr}, KeyIndex::Nulls::kSkip, ids.data()).ok());
  EXPECT_EQ(ids, (std::vector<uint32_t>{0, 1, 0, KeyIndex::kSkipped}));
  EXPECT_EQ(index->size(), 2);
  ASSERT_TRUE(index->Seal().ok());
  EXPECT_FALSE(index->Insert({arr}, KeyIndex::Nulls::kSkip, ids.data()).ok());
}

// Two key columns (integer + string, string + string, one of them dictionary-encoded):
// ids against a reference map of pairs, key columns, Find of pairs whose values each
// exist but not together, skipped NULLs, and partitioned merges.
TEST(KeyIndexTest, PairsOfKeyColumns) {
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<int> d(0, 40);
  auto ints = [&] { return static_cast<int64_t>(d(rng)); };
  auto strs = [&] { return "s" + std::to_string(d(rng) % 13); };
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    auto make_a = [&](int64_t n) {
      return kind == 0
                 ? MakeColumn<arrow::Int64Builder>(arrow::int64(), n, 0.05, ints, &rng)
                 : MakeColumn<arrow::StringBuilder>(arrow::utf8(), n, 0.05, strs, &rng);
    };
    auto make_b = [&](int64_t n) -> std::shared_ptr<arrow::Array> {
      auto plain = MakeColumn<arrow::StringBuilder>(arrow::utf8(), n, 0.05, strs, &rng);
      if (kind != 2) return plain;
      return arrow::compute::DictionaryEncode(plain).ValueOrDie().make_array();
    };
    ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({make_a(1)->type(), arrow::utf8()}));
    std::map<std::pair<RefKey, RefKey>, uint32_t> ref;
    std::vector<std::pair<RefKey, RefKey>> by_id;
    std::vector<arrow::ArrayVector> batches;
    for (int b = 0; b < 4; ++b) {
      arrow::ArrayVector cols = {make_a(700), make_b(700)};
      std::vector<uint32_t> ids(700);
      ASSERT_TRUE(index->Insert(cols, KeyIndex::Nulls::kGroup, ids.data()).ok());
      auto ka = RefKeys(*cols[0]);
      auto plain_b = kind == 2
                         ? arrow::compute::Cast(*cols[1], arrow::utf8()).ValueOrDie()
                         : cols[1];
      auto kb = RefKeys(*plain_b);
      for (int i = 0; i < 700; ++i) {
        auto [it, inserted] = ref.emplace(std::make_pair(ka[i], kb[i]),
                                          static_cast<uint32_t>(by_id.size()));
        if (inserted) by_id.push_back(it->first);
        ASSERT_EQ(ids[i], it->second) << "row " << i;
      }
      batches.push_back(cols);
    }
    ASSERT_EQ(index->size(), static_cast<int64_t>(by_id.size()));
    ASSERT_OK_AND_ASSIGN(auto key_cols, index->KeyColumns(arrow::default_memory_pool()));
    ASSERT_EQ(key_cols.size(), 2u);
    auto ca = RefKeys(*key_cols[0]);
    auto cb = RefKeys(*key_cols[1]);
    for (size_t g = 0; g < by_id.size(); ++g) {
      ASSERT_EQ(std::make_pair(ca[g], cb[g]), by_id[g]) << g;
    }
    // Find: known pairs, NULLs never, and the pair of two known values that never met.
    ProbeScratch scratch;
    for (const auto& cols : batches) {
      std::vector<int64_t> found(cols[0]->length());
      ASSERT_TRUE(index->Find(cols, &scratch, found.data()).ok());
      auto ka = RefKeys(*cols[0]);
      auto plain_b = kind == 2
                         ? arrow::compute::Cast(*cols[1], arrow::utf8()).ValueOrDie()
                         : cols[1];
      auto kb = RefKeys(*plain_b);
      for (size_t i = 0; i < found.size(); ++i) {
        int64_t want = (ka[i] && kb[i]) ? static_cast<int64_t>(ref[{ka[i], kb[i]}]) : -1;
        ASSERT_EQ(found[i], want);
      }
    }
    // Partitioned merge of a second index into fresh ones: every pair in one partition.
    ASSERT_OK_AND_ASSIGN(auto other, KeyIndex::Make({make_a(1)->type(), arrow::utf8()}));
    std::vector<uint32_t> scratch_ids(700);
    ASSERT_TRUE(
        other->Insert(batches[1], KeyIndex::Nulls::kGroup, scratch_ids.data()).ok());
    std::vector<uint8_t> part_a(index->size()), part_b(other->size());
    index->Partitions(4, part_a.data());
    other->Partitions(4, part_b.data());
    std::map<std::pair<RefKey, RefKey>, int> seen;
    for (int p = 0; p < 4; ++p) {
      ASSERT_OK_AND_ASSIGN(auto merged,
                           KeyIndex::Make({make_a(1)->type(), arrow::utf8()}));
      std::vector<uint32_t> ma(index->size()), mb(other->size());
      ASSERT_TRUE(merged->InsertAll(*index, ma.data(), part_a.data(), p).ok());
      ASSERT_TRUE(merged->InsertAll(*other, mb.data(), part_b.data(), p).ok());
      ASSERT_OK_AND_ASSIGN(auto mc, merged->KeyColumns(arrow::default_memory_pool()));
      auto ma_keys = RefKeys(*mc[0]);
      auto mb_keys = RefKeys(*mc[1]);
      ASSERT_EQ(merged->size(), static_cast<int64_t>(ma_keys.size()));
      for (size_t g = 0; g < ma_keys.size(); ++g) {
        ASSERT_TRUE(seen.emplace(std::make_pair(ma_keys[g], mb_keys[g]), p).second);
      }
    }
    ASSERT_EQ(seen.size(), by_id.size());  // other's keys are all in index too
    // Skipped NULLs: a row with a NULL in either column gets no id.
    ASSERT_OK_AND_ASSIGN(auto join_index,
                         KeyIndex::Make({make_a(1)->type(), arrow::utf8()}));
    std::vector<uint32_t> jids(700);
    ASSERT_TRUE(join_index->Insert(batches[0], KeyIndex::Nulls::kSkip, jids.data()).ok());
    auto ka = RefKeys(*batches[0][0]);
    for (int i = 0; i < 700; ++i) {
      if (!ka[i]) {
        ASSERT_EQ(jids[i], KeyIndex::kSkipped);
      }
    }
  }
}

// Build (every key at once, then sealed: a join's build side) gives the ids, key columns
// and lookups of Insert followed by Seal, for dense ranges (placed by direct indexing),
// sparse ones, NULLs grouped or skipped, one column and pairs.
TEST(KeyIndexTest, BuildAtOnceMatchesInsertThenSeal) {
  std::mt19937_64 rng(23);
  for (int64_t domain : {int64_t{300}, int64_t{20000}, int64_t{1} << 40}) {
    for (int columns : {1, 2}) {
      for (auto nulls : {KeyIndex::Nulls::kGroup, KeyIndex::Nulls::kSkip}) {
        SCOPED_TRACE("domain " + std::to_string(domain) + " columns " +
                     std::to_string(columns));
        std::uniform_int_distribution<int64_t> d(-domain / 3, domain);
        auto column = [&](int64_t n) {
          return MakeColumn<arrow::Int64Builder>(
              arrow::int64(), n, 0.03, [&] { return d(rng); }, &rng);
        };
        arrow::ArrayVector keys, probe;
        for (int c = 0; c < columns; ++c) {
          keys.push_back(column(5000));
          probe.push_back(column(3000));
        }
        std::vector<std::shared_ptr<arrow::DataType>> types(columns, arrow::int64());
        ASSERT_OK_AND_ASSIGN(auto built, KeyIndex::Make(types));
        ASSERT_OK_AND_ASSIGN(auto inserted, KeyIndex::Make(types));
        std::vector<uint32_t> a(5000), b(5000);
        ASSERT_TRUE(built->Build(keys, nulls, a.data()).ok());
        ASSERT_TRUE(inserted->Insert(keys, nulls, b.data()).ok());
        ASSERT_TRUE(inserted->Seal().ok());
        ASSERT_EQ(a, b);
        ASSERT_EQ(built->size(), inserted->size());
        ASSERT_OK_AND_ASSIGN(auto ca, built->KeyColumns(arrow::default_memory_pool()));
        ASSERT_OK_AND_ASSIGN(auto cb, inserted->KeyColumns(arrow::default_memory_pool()));
        for (int c = 0; c < columns; ++c) ASSERT_TRUE(ca[c]->Equals(*cb[c]));
        for (const auto& cols : {keys, probe}) {
          ProbeScratch sa, sb;
          std::vector<int64_t> fa(cols[0]->length()), fb(cols[0]->length());
          ASSERT_TRUE(built->Find(cols, &sa, fa.data()).ok());
          ASSERT_TRUE(inserted->Find(cols, &sb, fb.data()).ok());
          ASSERT_EQ(fa, fb);
        }
        // Sealed by Build: no more inserts.
        EXPECT_FALSE(built->Insert(keys, nulls, a.data()).ok());
      }
    }
  }
}

// Pairs of two small columns are looked up in a direct table until the columns' value
// counts outgrow it; ids keep first-insertion order across that switch.
TEST(KeyIndexTest, PairIdsAcrossTheSmallDomainLimit) {
  std::mt19937_64 rng(29);
  ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({arrow::int64(), arrow::int64()}));
  std::map<std::pair<RefKey, RefKey>, uint32_t> ref;
  for (int64_t domain : {5, 40, 400, 4000, 40}) {
    std::uniform_int_distribution<int64_t> d(0, domain);
    arrow::ArrayVector cols;
    for (int c = 0; c < 2; ++c) {
      cols.push_back(MakeColumn<arrow::Int64Builder>(
          arrow::int64(), 3000, 0.02, [&] { return d(rng); }, &rng));
    }
    std::vector<uint32_t> ids(3000);
    ASSERT_TRUE(index->Insert(cols, KeyIndex::Nulls::kGroup, ids.data()).ok());
    auto ka = RefKeys(*cols[0]);
    auto kb = RefKeys(*cols[1]);
    for (int i = 0; i < 3000; ++i) {
      auto [it, inserted] =
          ref.emplace(std::make_pair(ka[i], kb[i]), static_cast<uint32_t>(ref.size()));
      ASSERT_EQ(ids[i], it->second) << "domain " << domain << " row " << i;
    }
  }
  EXPECT_EQ(index->size(), static_cast<int64_t>(ref.size()));
}

// A large sealed hash table filters probes through its Bloom filter once most probes
// miss: the ids found must be those of a reference map, hits and misses alike, across
// batches that switch the filter on and off.
// Builds n keys from `key`, then probes in batches that first mostly miss (the
// filter turns on) and then mostly hit, against a map; misses come from `key` + 1 and
// from outside the keys' range on both sides.
void CheckFilteredProbes(int64_t n, const std::function<int64_t(std::mt19937_64&)>& key) {
  std::mt19937_64 rng(99);
  std::unordered_map<int64_t, int64_t> ref;
  arrow::Int64Builder kb;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(kb.Append(key(rng)).ok());
  }
  std::shared_ptr<arrow::Array> keys;
  ASSERT_TRUE(kb.Finish(&keys).ok());
  ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({arrow::int64()}));
  std::vector<uint32_t> ids(n);
  ASSERT_TRUE(index->Build({keys}, KeyIndex::Nulls::kSkip, ids.data()).ok());
  const auto& k64 = static_cast<const arrow::Int64Array&>(*keys);
  for (int64_t i = 0; i < n; ++i) ref.emplace(k64.Value(i), ids[i]);
  ProbeScratch scratch;
  for (int batch = 0; batch < 12; ++batch) {
    // Early batches mostly miss (the filter turns on), later ones mostly hit.
    const int hit_percent = batch < 6 ? 5 : 95;
    arrow::Int64Builder pb;
    for (int i = 0; i < 4000; ++i) {
      int64_t k = static_cast<int64_t>(rng() % 100) < hit_percent
                      ? k64.Value(static_cast<int64_t>(rng() % n))
                      : key(rng) + 1;
      if (i % 89 == 0) k = -k - 5;
      if (i % 83 == 0) k = std::numeric_limits<int64_t>::max() - i;
      if (i % 97 == 0) {
        ASSERT_TRUE(pb.AppendNull().ok());
      } else {
        ASSERT_TRUE(pb.Append(k).ok());
      }
    }
    std::shared_ptr<arrow::Array> probe;
    ASSERT_TRUE(pb.Finish(&probe).ok());
    std::vector<int64_t> found(probe->length());
    ASSERT_TRUE(index->Find({probe}, &scratch, found.data()).ok());
    const auto& p64 = static_cast<const arrow::Int64Array&>(*probe);
    for (int64_t i = 0; i < probe->length(); ++i) {
      int64_t want = -1;
      if (p64.IsValid(i)) {
        auto it = ref.find(p64.Value(i));
        if (it != ref.end()) want = it->second;
      }
      ASSERT_EQ(found[i], want) << "batch " << batch << " row " << i;
    }
  }
  EXPECT_EQ(scratch.probed, 12 * 4000);
}

TEST(KeyIndexTest, FilteredProbesOfALargeTableMatchAMap) {
  // Sparse 44-bit keys: hashed, with a Bloom filter.
  CheckFilteredProbes(60000,
                      [](std::mt19937_64& r) { return static_cast<int64_t>(r() >> 20); });
}

TEST(KeyIndexTest, FilteredProbesOfASmallRangeMatchAMap) {
  // Hashed keys whose range fits the range bits: many keys over 1.5 M values, and a
  // few (TPC-H Q17's parts) over 200 K.
  CheckFilteredProbes(
      60000, [](std::mt19937_64& r) { return static_cast<int64_t>(r() % 1500000); });
  CheckFilteredProbes(
      204, [](std::mt19937_64& r) { return static_cast<int64_t>(r() % 200000) + 1; });
}

using RefRow = std::vector<RefKey>;

std::vector<RefRow> RefRows(const arrow::ArrayVector& cols) {
  std::vector<std::vector<RefKey>> per_col;
  for (const auto& c : cols) {
    auto plain = c->type_id() == arrow::Type::DICTIONARY
                     ? arrow::compute::Cast(*c, arrow::utf8()).ValueOrDie()
                     : c;
    per_col.push_back(RefKeys(*plain));
  }
  std::vector<RefRow> rows(cols[0]->length());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const auto& pc : per_col) rows[i].push_back(pc[i]);
  }
  return rows;
}

bool AnyNull(const RefRow& r) {
  for (const auto& k : r) {
    if (!k) return true;
  }
  return false;
}

// Keys of three to five columns (packed column ids): ids against a reference map while
// the columns' value counts grow batch by batch (their bits widen, every key is packed
// again) and, for the wide domains, past 64 bits (the keys move to row encoding); key
// columns, Find, a second table sharing the columns (MakeEmpty), partitions that agree
// between the forms, partitioned merges, and skipped NULLs.
TEST(KeyIndexTest, ManyKeyColumnsAgainstAMap) {
  std::mt19937_64 rng(41);
  const std::vector<std::vector<int64_t>> domain_plans = {
      {3, 30, 300, 3000, 30},                   // widths grow, stay packed
      {2, 1 << 20, 1 << 20, 1 << 20, 1 << 20},  // 13 bits a column: beyond 64 bits
      {2, 1 << 20, 1 << 20, 1 << 20, 1 << 20},  // and with 10 columns beyond 128
  };
  for (int plan = 0; plan < 3; ++plan) {
    const std::vector<int> column_counts = plan == 0   ? std::vector<int>{3, 5}
                                           : plan == 1 ? std::vector<int>{5, 6}
                                                       : std::vector<int>{10};
    for (int ncols : column_counts) {
      SCOPED_TRACE("plan " + std::to_string(plan) + " columns " + std::to_string(ncols));
      std::vector<std::shared_ptr<arrow::DataType>> types;
      for (int c = 0; c < ncols; ++c) {
        types.push_back(c % 3 == 1   ? arrow::utf8()
                        : c % 3 == 2 ? arrow::int32()
                                     : arrow::int64());
      }
      auto make_batch = [&](int64_t domain, int64_t n) {
        std::uniform_int_distribution<int64_t> d(0, domain);
        arrow::ArrayVector cols;
        for (int c = 0; c < ncols; ++c) {
          if (c % 3 == 1) {
            auto plain = MakeColumn<arrow::StringBuilder>(
                arrow::utf8(), n, 0.03, [&] { return "v" + std::to_string(d(rng)); },
                &rng);
            // Every other string column arrives dictionary-encoded.
            cols.push_back(
                c == 4 ? arrow::compute::DictionaryEncode(plain).ValueOrDie().make_array()
                       : plain);
          } else if (c % 3 == 2) {
            cols.push_back(MakeColumn<arrow::Int32Builder>(
                arrow::int32(), n, 0.03, [&] { return static_cast<int32_t>(d(rng)); },
                &rng));
          } else {
            cols.push_back(MakeColumn<arrow::Int64Builder>(
                arrow::int64(), n, 0.03, [&] { return d(rng) * 7 - 11; }, &rng));
          }
        }
        return cols;
      };
      ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make(types));
      std::map<RefRow, uint32_t> ref;
      std::vector<RefRow> by_id;
      std::vector<arrow::ArrayVector> batches;
      for (int64_t domain : domain_plans[plan]) {
        auto cols = make_batch(domain, 2000);
        std::vector<uint32_t> ids(2000);
        ASSERT_TRUE(index->Insert(cols, KeyIndex::Nulls::kGroup, ids.data()).ok());
        auto rows = RefRows(cols);
        for (size_t i = 0; i < rows.size(); ++i) {
          auto [it, inserted] = ref.emplace(rows[i], static_cast<uint32_t>(by_id.size()));
          if (inserted) by_id.push_back(rows[i]);
          ASSERT_EQ(ids[i], it->second) << "domain " << domain << " row " << i;
        }
        batches.push_back(cols);
      }
      ASSERT_EQ(index->size(), static_cast<int64_t>(by_id.size()));
      // Only row-encoded keys take bytes of their own: up to 128 bits, column ids
      // packed into one word or two.
      EXPECT_EQ(index->KeyBytes() > 0, plan == 2);
      ASSERT_OK_AND_ASSIGN(auto key_cols,
                           index->KeyColumns(arrow::default_memory_pool()));
      ASSERT_EQ(key_cols.size(), static_cast<size_t>(ncols));
      for (int c = 0; c < ncols; ++c) ASSERT_TRUE(key_cols[c]->type()->Equals(*types[c]));
      ASSERT_EQ(RefRows(key_cols), by_id);

      // A second table of the same worker: shares the columns, numbers its own keys.
      ASSERT_OK_AND_ASSIGN(auto sibling, index->MakeEmpty());
      std::map<RefRow, uint32_t> sibling_ref;
      for (int b : {1, 0}) {
        std::vector<uint32_t> ids(2000);
        ASSERT_TRUE(
            sibling->Insert(batches[b], KeyIndex::Nulls::kGroup, ids.data()).ok());
        auto rows = RefRows(batches[b]);
        for (size_t i = 0; i < rows.size(); ++i) {
          auto [it, inserted] =
              sibling_ref.emplace(rows[i], static_cast<uint32_t>(sibling_ref.size()));
          ASSERT_EQ(ids[i], it->second) << "sibling batch " << b << " row " << i;
        }
      }
      // An index that only ever saw the first batch (packed in either plan).
      ASSERT_OK_AND_ASSIGN(auto small, KeyIndex::Make(types));
      std::vector<uint32_t> small_ids(2000);
      ASSERT_TRUE(
          small->Insert(batches[0], KeyIndex::Nulls::kGroup, small_ids.data()).ok());

      // Partitions agree between the three for every key, and a partitioned merge of
      // all three puts every key in exactly one partition.
      std::vector<KeyIndex*> sources = {index.get(), sibling.get(), small.get()};
      std::vector<std::vector<uint8_t>> parts(3);
      std::vector<std::vector<RefRow>> keys(3);
      std::map<RefRow, int> part_of_key;
      for (int s = 0; s < 3; ++s) {
        parts[s].resize(sources[s]->size());
        sources[s]->Partitions(8, parts[s].data());
        ASSERT_OK_AND_ASSIGN(auto cols,
                             sources[s]->KeyColumns(arrow::default_memory_pool()));
        keys[s] = RefRows(cols);
        for (size_t g = 0; g < keys[s].size(); ++g) {
          ASSERT_LT(parts[s][g], 8);
          auto [it, inserted] = part_of_key.emplace(keys[s][g], parts[s][g]);
          ASSERT_EQ(it->second, parts[s][g]) << "source " << s << " key " << g;
        }
      }
      std::map<RefRow, int> seen;
      for (int p = 0; p < 8; ++p) {
        ASSERT_OK_AND_ASSIGN(auto merged, KeyIndex::Make(types));
        std::vector<std::vector<uint32_t>> maps(3);
        for (int s = 0; s < 3; ++s) {
          maps[s].resize(sources[s]->size());
          ASSERT_TRUE(
              merged->InsertAll(*sources[s], maps[s].data(), parts[s].data(), p).ok());
        }
        ASSERT_OK_AND_ASSIGN(auto mc, merged->KeyColumns(arrow::default_memory_pool()));
        auto merged_keys = RefRows(mc);
        for (const auto& k : merged_keys) ASSERT_TRUE(seen.emplace(k, p).second);
        for (int s = 0; s < 3; ++s) {
          for (size_t g = 0; g < keys[s].size(); ++g) {
            if (parts[s][g] == p) {
              ASSERT_EQ(merged_keys[maps[s][g]], keys[s][g]);
            } else {
              ASSERT_EQ(maps[s][g], KeyIndex::kSkipped);
            }
          }
        }
      }
      ASSERT_EQ(seen.size(), by_id.size());

      // Find: known keys, never a key with a NULL, and unseen combinations of known
      // values (the batches' columns shuffled against each other).
      ProbeScratch scratch;
      for (int sealed = 0; sealed < 2; ++sealed) {
        if (sealed) {
          ASSERT_TRUE(index->Seal().ok());
        }
        for (const auto& cols : batches) {
          arrow::ArrayVector shifted = cols;
          shifted[0] = batches[(&cols - batches.data() + 1) % batches.size()][0];
          for (const auto& probe : {cols, shifted}) {
            std::vector<int64_t> found(probe[0]->length());
            ASSERT_TRUE(index->Find(probe, &scratch, found.data()).ok());
            auto rows = RefRows(probe);
            for (size_t i = 0; i < rows.size(); ++i) {
              auto it = ref.find(rows[i]);
              int64_t want = AnyNull(rows[i]) || it == ref.end()
                                 ? -1
                                 : static_cast<int64_t>(it->second);
              ASSERT_EQ(found[i], want) << "sealed " << sealed << " row " << i;
            }
          }
        }
      }

      // Skipped NULLs (a join's build): rows with a NULL anywhere get no id.
      ASSERT_OK_AND_ASSIGN(auto join_index, KeyIndex::Make(types));
      std::map<RefRow, uint32_t> join_ref;
      for (const auto& cols : batches) {
        std::vector<uint32_t> ids(2000);
        ASSERT_TRUE(join_index->Insert(cols, KeyIndex::Nulls::kSkip, ids.data()).ok());
        auto rows = RefRows(cols);
        for (size_t i = 0; i < rows.size(); ++i) {
          if (AnyNull(rows[i])) {
            ASSERT_EQ(ids[i], KeyIndex::kSkipped);
            continue;
          }
          auto [it, inserted] =
              join_ref.emplace(rows[i], static_cast<uint32_t>(join_ref.size()));
          ASSERT_EQ(ids[i], it->second);
        }
      }
    }
  }
}

// Integer keys inserted into the direct array (a small dense range) and then the far
// ends of the int64 range: the span check must not overflow (hi - lo + 1 wraps to 0
// for INT64_MIN..INT64_MAX), and the index must move to hash slots.
TEST(KeyIndexTest, ExtremeIntegerKeysLeaveTheDirectArray) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (const std::vector<std::vector<int64_t>>& batches :
       {std::vector<std::vector<int64_t>>{{kMin}, {kMax, kMin, 0}},
        std::vector<std::vector<int64_t>>{{kMin, kMin + 1, kMin + 2}, {kMax}, {kMin + 1}},
        std::vector<std::vector<int64_t>>{{1, 2, 3, 4}, {kMax - 1, kMin}, {3, kMax}}}) {
    ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({arrow::int64()}));
    std::map<int64_t, uint32_t> ref;
    for (const auto& values : batches) {
      arrow::Int64Builder b;
      ASSERT_TRUE(b.AppendValues(values).ok());
      std::shared_ptr<arrow::Array> col;
      ASSERT_TRUE(b.Finish(&col).ok());
      std::vector<uint32_t> ids(values.size());
      ASSERT_TRUE(index->Insert({col}, KeyIndex::Nulls::kGroup, ids.data()).ok());
      for (size_t i = 0; i < values.size(); ++i) {
        auto [it, inserted] = ref.emplace(values[i], static_cast<uint32_t>(ref.size()));
        ASSERT_EQ(ids[i], it->second) << values[i];
      }
    }
    ASSERT_OK_AND_ASSIGN(auto cols, index->KeyColumns(arrow::default_memory_pool()));
    const auto& keys = static_cast<const arrow::Int64Array&>(*cols[0]);
    for (const auto& [v, id] : ref) ASSERT_EQ(keys.Value(id), v);
  }
}

// Find of several key columns on batches large enough to be narrowed by the first
// column (PackedKeyIndex::kNarrowRows): most, some, none or all of the first column's
// values known, NULLs in either column, against a map.
TEST(KeyIndexTest, PairLookupsNarrowedByTheFirstColumnMatchAMap) {
  std::mt19937_64 rng(41);
  for (bool string_second : {false, true}) {
    SCOPED_TRACE(string_second);
    auto second_type = string_second ? arrow::utf8() : arrow::int64();
    ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make({arrow::int64(), second_type}));
    // Built keys: first in [0, 1000), second in [0, 50).
    std::uniform_int_distribution<int64_t> built_first(0, 999), any_second(0, 49);
    auto second_column = [&](const std::vector<std::optional<int64_t>>& v) {
      if (string_second) {
        arrow::StringBuilder b;
        for (auto x : v) {
          EXPECT_TRUE((x ? b.Append("v" + std::to_string(*x)) : b.AppendNull()).ok());
        }
        return b.Finish().ValueOrDie();
      }
      arrow::Int64Builder b;
      for (auto x : v) EXPECT_TRUE((x ? b.Append(*x) : b.AppendNull()).ok());
      return std::static_pointer_cast<arrow::Array>(b.Finish().ValueOrDie());
    };
    auto first_column = [&](const std::vector<std::optional<int64_t>>& v) {
      arrow::Int64Builder b;
      for (auto x : v) EXPECT_TRUE((x ? b.Append(*x) : b.AppendNull()).ok());
      return std::static_pointer_cast<arrow::Array>(b.Finish().ValueOrDie());
    };
    std::map<std::pair<int64_t, int64_t>, int64_t> ref;
    {
      std::vector<std::optional<int64_t>> a, b;
      for (int i = 0; i < 3000; ++i) {
        a.push_back(built_first(rng));
        b.push_back(any_second(rng));
      }
      std::vector<uint32_t> ids(a.size());
      ASSERT_TRUE(index
                      ->Build({first_column(a), second_column(b)}, KeyIndex::Nulls::kSkip,
                              ids.data())
                      .ok());
      for (size_t i = 0; i < a.size(); ++i) ref[{*a[i], *b[i]}] = ids[i];
    }
    ProbeScratch scratch;
    // Share of probe rows whose first value is among the built ones.
    for (double known : {0.0, 0.05, 0.3, 0.6, 1.0}) {
      SCOPED_TRACE(known);
      const int n = 5000;
      std::uniform_real_distribution<double> u(0, 1);
      std::uniform_int_distribution<int64_t> absent(1000, 100000);
      std::vector<std::optional<int64_t>> a, b;
      for (int i = 0; i < n; ++i) {
        a.push_back(u(rng) < 0.02    ? std::nullopt
                    : u(rng) < known ? std::optional<int64_t>(built_first(rng))
                                     : std::optional<int64_t>(absent(rng)));
        b.push_back(u(rng) < 0.02 ? std::nullopt
                                  : std::optional<int64_t>(any_second(rng)));
      }
      std::vector<int64_t> found(n, 7);
      ASSERT_TRUE(
          index->Find({first_column(a), second_column(b)}, &scratch, found.data()).ok());
      for (int i = 0; i < n; ++i) {
        int64_t want = -1;
        if (a[i] && b[i]) {
          auto it = ref.find({*a[i], *b[i]});
          if (it != ref.end()) want = it->second;
        }
        ASSERT_EQ(found[i], want) << "row " << i;
      }
    }
  }
}

// Two-word keys (MergedKeys' keys beyond 64 bits): ids in order of first insertion,
// equal for equal pairs, the words back by id; pairs that differ in one word only.
TEST(KeyIndexTest, TwoWordKeysAgainstAMap) {
  std::mt19937_64 rng(5);
  auto index = KeyIndex::MakeTwoWords();
  ASSERT_TRUE(index->Reserve(100, 0).ok());
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> ref;
  std::vector<std::pair<uint64_t, uint64_t>> by_id;
  std::uniform_int_distribution<uint64_t> small(0, 300);
  for (int batch = 0; batch < 6; ++batch) {
    const int n = 5000;
    arrow::Int64Builder lo, hi;
    std::vector<std::pair<uint64_t, uint64_t>> rows;
    for (int i = 0; i < n; ++i) {
      // Few values per word, so that pairs repeat and share one word with others.
      uint64_t a = batch < 3 ? small(rng) : rng();
      uint64_t b = small(rng) << 40;
      rows.emplace_back(a, b);
      ASSERT_TRUE(lo.Append(static_cast<int64_t>(a)).ok());
      ASSERT_TRUE(hi.Append(static_cast<int64_t>(b)).ok());
    }
    std::vector<uint32_t> ids(n);
    ASSERT_TRUE(index
                    ->Insert({lo.Finish().ValueOrDie(), hi.Finish().ValueOrDie()},
                             KeyIndex::Nulls::kGroup, ids.data())
                    .ok());
    for (int i = 0; i < n; ++i) {
      auto [it, inserted] = ref.emplace(rows[i], static_cast<uint32_t>(by_id.size()));
      if (inserted) by_id.push_back(rows[i]);
      ASSERT_EQ(ids[i], it->second) << "batch " << batch << " row " << i;
    }
  }
  ASSERT_EQ(index->size(), static_cast<int64_t>(by_id.size()));
  ASSERT_OK_AND_ASSIGN(auto cols, index->KeyColumns(arrow::default_memory_pool()));
  ASSERT_EQ(cols.size(), 2u);
  const auto* a = cols[0]->data()->GetValues<uint64_t>(1);
  const auto* b = cols[1]->data()->GetValues<uint64_t>(1);
  for (size_t g = 0; g < by_id.size(); ++g) {
    ASSERT_EQ(std::make_pair(a[g], b[g]), by_id[g]) << g;
  }
  std::vector<uint8_t> parts(index->size());
  index->Partitions(8, parts.data());
  for (uint8_t p : parts) ASSERT_LT(p, 8);
}

TEST(KeyIndexTest, FloatKeysAsWords) {
  std::mt19937_64 rng(77);
  std::uniform_int_distribution<int> pick(-300, 300);
  std::vector<std::shared_ptr<arrow::Array>> doubles, floats;
  for (int b = 0; b < 3; ++b) {
    // Few distinct mantissa bits (a multiplicative hash of the raw bits would crowd
    // them into few slots) and a wide exponent range.
    doubles.push_back(MakeColumn<arrow::DoubleBuilder>(
        arrow::float64(), 2000, 0.05,
        [&] { return std::ldexp(1.0 + pick(rng) / 512.0, pick(rng)); }, &rng));
    floats.push_back(MakeColumn<arrow::FloatBuilder>(
        arrow::float32(), 2000, 0.05,
        [&] { return static_cast<float>(pick(rng)) / 8.0f; }, &rng));
  }
  CheckIndex(doubles);
  CheckIndex(floats);
}

// -0.0 is 0.0 and every NaN is one key (as row encoding has them, and as DuckDB groups
// them), alone and beside another key column; the keys come back canonical.
TEST(KeyIndexTest, FloatZerosAndNaNsAreOneKeyEach) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  uint64_t payload_bits = 0x7FF8000000000123ull;
  double payload_nan;
  std::memcpy(&payload_nan, &payload_bits, 8);
  const std::vector<double> values = {
      0.0,         -0.0, nan,  -nan,
      payload_nan, 1.5,  -1.5, std::numeric_limits<double>::infinity(),
      -0.0,        nan};
  arrow::DoubleBuilder b;
  ASSERT_TRUE(b.AppendValues(values).ok());
  ASSERT_TRUE(b.AppendNull().ok());
  std::shared_ptr<arrow::Array> col = b.Finish().ValueOrDie();
  const std::vector<uint32_t> want = {0, 0, 1, 1, 1, 2, 3, 4, 0, 1, 5};
  for (bool with_ints : {false, true}) {
    SCOPED_TRACE(with_ints ? "beside an int column" : "alone");
    arrow::ArrayVector cols = {col};
    std::vector<std::shared_ptr<arrow::DataType>> types = {arrow::float64()};
    if (with_ints) {
      arrow::Int64Builder ib;
      ASSERT_TRUE(ib.AppendValues(std::vector<int64_t>(values.size() + 1, 7)).ok());
      cols.push_back(ib.Finish().ValueOrDie());
      types.push_back(arrow::int64());
    }
    ASSERT_OK_AND_ASSIGN(auto index, KeyIndex::Make(types));
    std::vector<uint32_t> ids(col->length());
    ASSERT_TRUE(index->Insert(cols, KeyIndex::Nulls::kGroup, ids.data()).ok());
    EXPECT_EQ(ids, want);
    ASSERT_OK_AND_ASSIGN(auto keys, index->KeyColumns(arrow::default_memory_pool()));
    const auto& out = static_cast<const arrow::DoubleArray&>(*keys[0]);
    ASSERT_EQ(out.length(), 6);
    EXPECT_EQ(out.Value(0), 0.0);
    EXPECT_FALSE(std::signbit(out.Value(0)));
    EXPECT_TRUE(std::isnan(out.Value(1)));
    EXPECT_EQ(out.Value(2), 1.5);
    EXPECT_EQ(out.Value(3), -1.5);
    EXPECT_TRUE(std::isinf(out.Value(4)));
    EXPECT_TRUE(out.IsNull(5));
    ProbeScratch scratch;
    std::vector<int64_t> found(col->length());
    ASSERT_TRUE(index->Find(cols, &scratch, found.data()).ok());
    for (size_t i = 0; i + 1 < want.size(); ++i) EXPECT_EQ(found[i], want[i]) << i;
    EXPECT_EQ(found.back(), -1);  // NULL never matches
  }
}

// A table and the next one MakeEmpty gives share their column indexes: values the next
// one inserts get column ids past the first table's bits, and are absent from it (the
// first column had one value, no bits at all, when the first table took its layout).
TEST(KeyIndexTest, FindInATableWhoseColumnsGrewAfterIt) {
  auto ints = [](std::vector<int64_t> v) {
    arrow::Int64Builder b;
    EXPECT_TRUE(b.AppendValues(v).ok());
    return b.Finish().ValueOrDie();
  };
  auto strings = [](std::vector<std::string> v) {
    arrow::StringBuilder b;
    EXPECT_TRUE(b.AppendValues(v).ok());
    return b.Finish().ValueOrDie();
  };
  ASSERT_OK_AND_ASSIGN(auto first, KeyIndex::Make({arrow::utf8(), arrow::int64()}));
  std::vector<uint32_t> ids(4);
  ASSERT_TRUE(first
                  ->Insert({strings({"a", "a", "a", "a"}), ints({1, 2, 3, 2})},
                           KeyIndex::Nulls::kGroup, ids.data())
                  .ok());
  ASSERT_OK_AND_ASSIGN(auto next, first->MakeEmpty());
  ASSERT_TRUE(next->Insert({strings({"b", "c", "a", "a"}), ints({1, 2, 900, 1000})},
                           KeyIndex::Nulls::kGroup, ids.data())
                  .ok());
  ProbeScratch scratch;
  std::vector<int64_t> found(6);
  ASSERT_TRUE(
      first
          ->Find({strings({"b", "c", "a", "a", "a", "a"}), ints({1, 2, 900, 1000, 3, 1})},
                 &scratch, found.data())
          .ok());
  EXPECT_EQ(found, (std::vector<int64_t>{-1, -1, -1, -1, 2, 0}));
}

}  // namespace
}  // namespace sluice::exec
