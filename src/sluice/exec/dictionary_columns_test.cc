#include "sluice/exec/dictionary_columns.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "sluice/exec/physical_planner.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::exec {
namespace {

std::shared_ptr<arrow::Array> Strings(const std::vector<std::optional<std::string>>& v) {
  arrow::StringBuilder b;
  for (const auto& s : v) {
    EXPECT_TRUE((s ? b.Append(*s) : b.AppendNull()).ok());
  }
  return b.Finish().ValueOrDie();
}

std::shared_ptr<arrow::Array> Encode(const std::shared_ptr<arrow::Array>& a) {
  return arrow::compute::DictionaryEncode(a).ValueOrDie().make_array();
}

std::shared_ptr<arrow::RecordBatch> Batch2(std::shared_ptr<arrow::Array> s,
                                           int64_t base) {
  arrow::Int64Builder v;
  for (int64_t i = 0; i < s->length(); ++i) EXPECT_TRUE(v.Append(base + i).ok());
  auto schema =
      arrow::schema({arrow::field("s", s->type()), arrow::field("v", arrow::int64())});
  return arrow::RecordBatch::Make(schema, s->length(), {s, v.Finish().ValueOrDie()});
}

TEST(DictionaryColumns, LogicalSchemaHasTheValueTypes) {
  auto s =
      arrow::schema({arrow::field("a", arrow::dictionary(arrow::int32(), arrow::utf8())),
                     arrow::field("b", arrow::int64())});
  auto logical = LogicalSchema(s);
  EXPECT_TRUE(logical->field(0)->type()->Equals(*arrow::utf8()));
  EXPECT_TRUE(logical->field(1)->type()->Equals(*arrow::int64()));
  auto plain = arrow::schema({arrow::field("b", arrow::int64())});
  EXPECT_EQ(LogicalSchema(plain), plain);  // nothing to change: the same object
}

TEST(DictionaryColumns, DecodesAllButTheKeptColumns) {
  auto values = Strings({"x", std::nullopt, "y", "x"});
  auto batch = Batch2(Encode(values), 0);
  auto kept = DecodeDictionaries(batch, {true, false}).ValueOrDie();
  EXPECT_EQ(kept, batch);
  auto decoded = DecodeDictionaries(batch, {}).ValueOrDie();
  ASSERT_TRUE(decoded->column(0)->type()->Equals(*arrow::utf8()));
  EXPECT_TRUE(decoded->column(0)->Equals(*values));
  EXPECT_TRUE(decoded->schema()->field(0)->type()->Equals(*arrow::utf8()));
}

TEST(DictionaryColumns, TableKeepsAColumnEncodedOnlyIfEveryBatchIs) {
  auto a = Strings({"p", "q", std::nullopt});
  auto b = Strings({"r", "p"});
  auto logical = arrow::schema(
      {arrow::field("s", arrow::utf8()), arrow::field("v", arrow::int64())});
  // Every batch encoded, each with its own dictionary: stays encoded.
  auto all =
      TableKeepingDictionaries(logical, {Batch2(Encode(a), 0), Batch2(Encode(b), 3)})
          .ValueOrDie();
  ASSERT_EQ(all->column(0)->type()->id(), arrow::Type::DICTIONARY);
  auto back = DecodeTableDictionaries(all).ValueOrDie();
  EXPECT_TRUE(back->schema()->Equals(*logical));
  EXPECT_TRUE(back->column(0)->Equals(arrow::ChunkedArray({a, b})));
  // One plain batch: the column is decoded everywhere.
  auto mixed = TableKeepingDictionaries(logical, {Batch2(Encode(a), 0), Batch2(b, 3)})
                   .ValueOrDie();
  EXPECT_TRUE(mixed->schema()->Equals(*logical));
  EXPECT_TRUE(mixed->column(0)->Equals(arrow::ChunkedArray({a, b})));
  EXPECT_EQ(TableKeepingDictionaries(logical, {}).ValueOrDie()->num_rows(), 0);
  // Some batches encoded and the values repeat: one dictionary for the whole column.
  auto c = Strings({"x", "y", "x", "x"});
  auto d = Strings({"y", std::nullopt, "x", "y"});
  auto unified = TableKeepingDictionaries(logical, {Batch2(Encode(c), 0), Batch2(d, 3)})
                     .ValueOrDie();
  ASSERT_EQ(unified->column(0)->type()->id(), arrow::Type::DICTIONARY);
  const auto& u = *unified->column(0);
  ASSERT_EQ(u.num_chunks(), 2);
  EXPECT_EQ(static_cast<const arrow::DictionaryArray&>(*u.chunk(0)).dictionary()->data(),
            static_cast<const arrow::DictionaryArray&>(*u.chunk(1)).dictionary()->data());
  auto plain = DecodeTableDictionaries(unified).ValueOrDie();
  EXPECT_TRUE(plain->schema()->Equals(*logical));
  EXPECT_TRUE(plain->column(0)->Equals(arrow::ChunkedArray({c, d})));
}

TEST(DictionaryColumns, RepeatedPlainStringsAreEncodedWhenAsked) {
  // 20,000 rows in batches of 5,000: a column of 300 values repeated, one of unique
  // strings, with NULLs in both.
  auto logical =
      arrow::schema({arrow::field("s", arrow::utf8()), arrow::field("u", arrow::utf8())});
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  std::vector<std::optional<std::string>> all_s;
  for (int b = 0; b < 4; ++b) {
    std::vector<std::optional<std::string>> s, u;
    for (int i = 0; i < 5000; ++i) {
      const int row = b * 5000 + i;
      s.push_back(row % 97 == 0
                      ? std::nullopt
                      : std::optional<std::string>("v" + std::to_string(row * 7 % 300)));
      u.push_back(row % 89 == 0 ? std::nullopt
                                : std::optional<std::string>("u" + std::to_string(row)));
      all_s.push_back(s.back());
    }
    batches.push_back(arrow::RecordBatch::Make(logical, 5000, {Strings(s), Strings(u)}));
  }
  auto kept = TableKeepingDictionaries(logical, batches).ValueOrDie();
  EXPECT_TRUE(kept->schema()->Equals(*logical));  // not asked: left plain
  auto encoded = TableKeepingDictionaries(logical, batches, true).ValueOrDie();
  ASSERT_EQ(encoded->column(0)->type()->id(), arrow::Type::DICTIONARY);
  EXPECT_EQ(encoded->column(1)->type()->id(), arrow::Type::STRING);  // mostly unique
  const auto& col = *encoded->column(0);
  const auto* dict =
      static_cast<const arrow::DictionaryArray&>(*col.chunk(0)).dictionary().get();
  for (const auto& chunk : col.chunks()) {
    EXPECT_EQ(static_cast<const arrow::DictionaryArray&>(*chunk).dictionary()->data(),
              dict->data());
  }
  EXPECT_EQ(dict->length(), 300);
  auto back = DecodeTableDictionaries(encoded).ValueOrDie();
  EXPECT_TRUE(back->Equals(*kept));
  // Too few rows to bother: plain.
  auto small =
      TableKeepingDictionaries(logical, {batches[0]->Slice(0, 1000)}, true).ValueOrDie();
  EXPECT_TRUE(small->schema()->Equals(*logical));
}

// Random chunks, each plain or dictionary-encoded (int8 or int32 indices, sliced, with
// NULL rows and a NULL in the dictionary), of values that repeat or do not: the table
// decodes back to the same strings, and is encoded with one dictionary exactly when at
// most one distinct value in two rows.
TEST(DictionaryColumns, MixedChunksUnifyToTheSameValues) {
  std::mt19937_64 rng(2026);
  auto logical = arrow::schema({arrow::field("s", arrow::utf8())});
  for (int round = 0; round < 40; ++round) {
    const int domain = round % 2 == 0 ? 50 : 100000;
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
    std::vector<std::shared_ptr<arrow::Array>> plain_chunks;
    std::set<std::string> distinct;
    int64_t rows = 0;
    const int nchunks = 1 + static_cast<int>(rng() % 5);
    for (int c = 0; c < nchunks; ++c) {
      const int n = static_cast<int>(rng() % 3000);
      std::vector<std::optional<std::string>> v;
      for (int i = 0; i < n + 10; ++i) {
        if (rng() % 17 == 0) {
          v.push_back(std::nullopt);
        } else {
          v.push_back("s" + std::to_string(rng() % domain));
        }
      }
      auto plain = Strings(v)->Slice(10);  // an offset, as a batch of a slice has
      std::shared_ptr<arrow::Array> chunk = plain;
      if (c == 0 || rng() % 2 == 0) {
        // Dictionary: the distinct values (and a NULL) in a shuffled order, indices of
        // int8 when they fit.
        std::vector<std::string> values;
        std::map<std::string, int> at;
        const auto& s = static_cast<const arrow::StringArray&>(*plain);
        for (int64_t i = 0; i < s.length(); ++i) {
          if (s.IsValid(i) && at.emplace(std::string(s.GetView(i)), 0).second) {
            values.emplace_back(s.GetView(i));
          }
        }
        std::shuffle(values.begin(), values.end(), rng);
        std::vector<std::optional<std::string>> dict_values = {std::nullopt};
        for (size_t j = 0; j < values.size(); ++j) {
          at[values[j]] = static_cast<int>(j + 1);
          dict_values.push_back(values[j]);
        }
        const bool small = dict_values.size() <= 127;
        arrow::Int32Builder wide;
        arrow::Int8Builder narrow;
        for (int64_t i = 0; i < s.length(); ++i) {
          if (s.IsNull(i)) {
            // A NULL row, or a row pointing at the dictionary's NULL.
            EXPECT_TRUE((i % 2 ? wide.AppendNull() : wide.Append(0)).ok());
            EXPECT_TRUE((i % 2 ? narrow.AppendNull() : narrow.Append(0)).ok());
          } else {
            const int k = at[std::string(s.GetView(i))];
            EXPECT_TRUE(wide.Append(k).ok());
            EXPECT_TRUE(narrow.Append(static_cast<int8_t>(small ? k : 0)).ok());
          }
        }
        std::shared_ptr<arrow::Array> indices =
            small ? narrow.Finish().ValueOrDie() : wide.Finish().ValueOrDie();
        chunk = arrow::DictionaryArray::FromArrays(
                    arrow::dictionary(indices->type(), arrow::utf8()), indices,
                    Strings(dict_values))
                    .ValueOrDie();
      }
      const auto& s = static_cast<const arrow::StringArray&>(*plain);
      for (int64_t i = 0; i < s.length(); ++i) {
        if (s.IsValid(i)) distinct.emplace(s.GetView(i));
      }
      rows += n;
      plain_chunks.push_back(plain);
      batches.push_back(arrow::RecordBatch::Make(logical, n, {chunk}));
    }
    SCOPED_TRACE("round " + std::to_string(round));
    auto table = TableKeepingDictionaries(logical, batches, true).ValueOrDie();
    const bool all_dictionary =
        std::all_of(batches.begin(), batches.end(), [&](const auto& b) {
          return b->column(0)->type()->Equals(*batches[0]->column(0)->type());
        });
    if (!all_dictionary && rows > 0) {
      const bool repeats = static_cast<int64_t>(distinct.size()) * 2 <= rows;
      EXPECT_EQ(table->column(0)->type()->id() == arrow::Type::DICTIONARY, repeats);
    }
    auto back = DecodeTableDictionaries(table).ValueOrDie();
    EXPECT_TRUE(back->schema()->Equals(*logical));
    EXPECT_TRUE(back->column(0)->Equals(arrow::ChunkedArray(plain_chunks, arrow::utf8())))
        << back->column(0)->ToString();
  }
}

// An in-memory table with an encoded column: plans see strings; a collect that keeps
// dictionaries gets the indices through a filter (on that column or another), and
// plain strings without keeping.
TEST(DictionaryColumns, InMemoryTableHandsIndicesOnlyToConsumersThatTakeThem) {
  auto values = Strings({"a", "b", std::nullopt, "a", "c", "b"});
  auto batch = Batch2(Encode(values), 0);
  auto table = arrow::Table::FromRecordBatches({batch}).ValueOrDie();
  auto source = std::make_shared<InMemoryTable>(table, "t");
  EXPECT_TRUE(source->schema()->field(0)->type()->Equals(*arrow::utf8()));
  auto run = [&](expr::Expr predicate, bool keep) {
    auto p = plan::MakeFilter(plan::MakeScan(source), predicate).ValueOrDie();
    plan::AssignIds(p);
    ExecContext ctx(ExecOptions{2, -1, 2, {}});
    return ExecuteToTable(p, &ctx, nullptr,
                          keep ? TableStrings::kKeepDictionaries : TableStrings::kPlain)
        .ValueOrDie();
  };
  auto on_v =
      expr::Call(">=", {expr::Column("v"), expr::Literal(arrow::MakeScalar(int64_t{1}))});
  auto kept = run(on_v, true);
  EXPECT_EQ(kept->column(0)->type()->id(), arrow::Type::DICTIONARY);
  auto expect = values->Slice(1);
  EXPECT_TRUE(DecodeTableDictionaries(kept).ValueOrDie()->column(0)->Equals(
      arrow::ChunkedArray(expect)));
  auto plain = run(on_v, false);
  EXPECT_TRUE(plain->column(0)->type()->Equals(*arrow::utf8()));
  EXPECT_TRUE(plain->column(0)->Equals(arrow::ChunkedArray(expect)));
  auto on_s = expr::Call("=", {expr::Column("s"), expr::Literal(arrow::MakeScalar("b"))});
  // A filter reading the column decides on the values and still passes indices on.
  auto read = run(on_s, true);
  EXPECT_EQ(read->column(0)->type()->id(), arrow::Type::DICTIONARY);
  EXPECT_TRUE(DecodeTableDictionaries(read).ValueOrDie()->column(0)->Equals(
      arrow::ChunkedArray(Strings({"b", "b"}))));
  EXPECT_TRUE(run(on_s, false)->column(0)->type()->Equals(*arrow::utf8()));
}

}  // namespace
}  // namespace sluice::exec
