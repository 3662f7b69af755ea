#include "sluice/connector/json/json_reader.h"

#include <arrow/api.h>
#include <arrow/io/compressed.h>
#include <arrow/io/file.h>
#include <arrow/json/from_string.h>
#include <arrow/util/compression.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "sluice/connector/json/line_reader_internal.h"
#include "sluice/testing/temp_dir.h"

namespace sluice::json {

namespace {

using sluice::testing::TempDir;
using sluice::testing::WriteFile;

std::shared_ptr<arrow::Array> ArrayOf(const std::shared_ptr<arrow::DataType>& type,
                                      const std::string& json) {
  auto result = arrow::json::ArrayFromJSONString(type, json);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ValueOrDie();
}

// Everything a test wants to know after reading a file to its end (or first error).
struct ReadOutcome {
  std::shared_ptr<arrow::Table> table;
  std::vector<int64_t> batch_sizes;
  Status status;
  int64_t rows_read = 0;
  int64_t rows_rejected = 0;
  int64_t bytes_read = 0;
};

ReadOutcome ReadAll(const std::string& path, const std::shared_ptr<arrow::Schema>& schema,
                    std::vector<int> projection = {}, JsonOptions options = {},
                    BadRowHandler* bad_rows = nullptr) {
  ReadOutcome out;
  auto reader = JsonReader::Open(path, schema, std::move(projection), options, bad_rows);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (;;) {
    auto batch = (*reader)->Next();
    if (!batch.ok()) {
      out.status = batch.status();
      break;
    }
    if (*batch == nullptr) break;
    EXPECT_GT((*batch)->num_rows(), 0);
    EXPECT_TRUE((*batch)->ValidateFull().ok());
    out.batch_sizes.push_back((*batch)->num_rows());
    batches.push_back(*batch);
  }
  out.table =
      arrow::Table::FromRecordBatches((*reader)->output_schema(), batches).ValueOrDie();
  out.rows_read = (*reader)->rows_read();
  out.rows_rejected = (*reader)->rows_rejected();
  out.bytes_read = (*reader)->bytes_read();
  return out;
}

void ExpectTable(const arrow::Table& actual, const std::shared_ptr<arrow::Schema>& schema,
                 const std::vector<std::string>& columns_json) {
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (int i = 0; i < schema->num_fields(); ++i) {
    arrays.push_back(ArrayOf(schema->field(i)->type(), columns_json[i]));
  }
  auto expected = arrow::Table::Make(schema, arrays);
  auto combined = actual.CombineChunks().ValueOrDie();
  EXPECT_TRUE(combined->Equals(*expected)) << "actual:\n"
                                           << combined->ToString() << "\nexpected:\n"
                                           << expected->ToString();
}

void WriteCompressed(const std::string& path, const std::string& text,
                     arrow::Compression::type type) {
  auto codec = arrow::util::Codec::Create(type).ValueOrDie();
  auto raw = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  auto stream = arrow::io::CompressedOutputStream::Make(codec.get(), raw).ValueOrDie();
  ASSERT_TRUE(stream->Write(text.data(), static_cast<int64_t>(text.size())).ok());
  ASSERT_TRUE(stream->Close().ok());
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------------------------
// Types and values

TEST(JsonReader, ReadsEveryType) {
  TempDir dir;
  std::string path = dir.Join("types.jsonl");
  WriteFile(
      path,
      R"({"b":true,"i8":-128,"i16":300,"i32":-5,"i64":9223372036854775807,"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,"f32":1.5,"f64":-2.5e-1,"d":"12.34","s":"héllo","ls":"x","dt":"2024-02-29","ts":"2024-01-15T10:30:00.123456","tsz":"2024-01-15T12:30:00+02:00","tss":1700000000}
{"b":false,"i8":127,"i16":-32768,"i32":2147483647,"i64":-9223372036854775808,"u8":0,"u16":1,"u32":2,"u64":3,"f32":-1,"f64":7,"d":-0.5,"s":"","ls":"y\"z","dt":"1969-12-31","ts":"1970-01-01","tsz":"2024-01-15T10:30:00","tss":-1}
)");
  auto schema = arrow::schema({
      arrow::field("b", arrow::boolean()),
      arrow::field("i8", arrow::int8()),
      arrow::field("i16", arrow::int16()),
      arrow::field("i32", arrow::int32()),
      arrow::field("i64", arrow::int64()),
      arrow::field("u8", arrow::uint8()),
      arrow::field("u16", arrow::uint16()),
      arrow::field("u32", arrow::uint32()),
      arrow::field("u64", arrow::uint64()),
      arrow::field("f32", arrow::float32()),
      arrow::field("f64", arrow::float64()),
      arrow::field("d", arrow::decimal128(6, 2)),
      arrow::field("s", arrow::utf8()),
      arrow::field("ls", arrow::large_utf8()),
      arrow::field("dt", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("tsz", arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")),
      arrow::field("tss", arrow::timestamp(arrow::TimeUnit::SECOND)),
  });
  auto out = ReadAll(path, schema);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ExpectTable(
      *out.table, schema,
      {"[true, false]", "[-128, 127]", "[300, -32768]", "[-5, 2147483647]",
       "[9223372036854775807, -9223372036854775808]", "[255, 0]", "[65535, 1]",
       "[4294967295, 2]", "[18446744073709551615, 3]", "[1.5, -1]", "[-0.25, 7]",
       R"(["12.34", "-0.50"])", R"(["héllo", ""])", R"(["x", "y\"z"])", "[19782, -1]",
       "[1705314600123456, 0]", "[1705314600000, 1705314600000]", "[1700000000, -1]"});
  EXPECT_EQ(out.rows_read, 2);
  EXPECT_EQ(out.rows_rejected, 0);
}

TEST(JsonReader, NullsMissingUnknownAndRepeatedKeys) {
  TempDir dir;
  std::string path = dir.Join("nulls.jsonl");
  WriteFile(path,
            "{\"a\":1,\"s\":\"x\",\"b\":true}\n"
            "{\"a\":null,\"s\":null,\"b\":null}\n"
            "\n"
            "   \t\r\n"
            "{}\r\n"
            "{\"zzz\":[1,{\"q\":null}],\"\\u0073\":\"only s\"}\n"  // an escaped key
            "{\"b\":false,\"a\":2,\"a\":3}\n"
            "{\"a\":4}");  // no final newline
  auto schema =
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("s", arrow::utf8()),
                     arrow::field("b", arrow::boolean())});
  auto out = ReadAll(path, schema);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ExpectTable(
      *out.table, schema,
      {"[1, null, null, null, 3, 4]", R"(["x", null, null, "only s", null, null])",
       "[true, null, null, null, false, null]"});
  EXPECT_EQ(out.rows_read, 6);  // the blank lines are not rows
}

TEST(JsonReader, ByteOrderMarkAndDeepNesting) {
  TempDir dir;
  std::string path = dir.Join("bom.jsonl");
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string ok_deep = std::string(50, '[') + std::string(50, ']');
  WriteFile(path, "\xEF\xBB\xBF{\"a\":1}\n{\"a\":2,\"x\":" + deep + "}\n{\"a\":3,\"x\":" +
                      ok_deep + "}\n{\"a\":4,\"s\":" + deep + "}\n");
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("s", arrow::utf8())});
  std::string rejects = dir.Join("rejects.jsonl");
  BadRowHandler reject(OnError::kReject, rejects);
  auto out = ReadAll(path, schema, {}, {}, &reject);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_TRUE(reject.Close().ok());
  ExpectTable(*out.table, schema, {"[1, 3]", "[null, null]"});
  EXPECT_EQ(out.rows_rejected, 2);
  EXPECT_TRUE(Contains(sluice::testing::ReadFile(rejects), "invalid JSON: ")) << "depth";
}

TEST(JsonReader, ExplicitSchemaConversions) {
  TempDir dir;
  std::string path = dir.Join("conv.jsonl");
  // Text columns keep non-strings as JSON text (numbers as written); floats take
  // integers; decimals come from the exact text; timestamps from integers in the unit.
  WriteFile(
      path,
      R"({"text":1.50,"f":3,"dec":123456789012345678.25,"ts":1500,"tsz":"2024-01-15T10:30:00"})"
      "\n"
      R"({"text": {"x": [1, 2]}  ,"f":1e2,"dec":"1e2","ts":"1970-01-01T00:00:01.5","tsz":"2024-01-15T11:30:00+01:00"})"
      "\n"
      R"({"text":[ ],"f":-0.5,"dec":-7,"ts":null,"tsz":"2024-01-15T10:30:00.000Z"})"
      "\n"
      R"({"text":true,"f":null,"dec":null,"ts":0,"tsz":null})"
      "\n"
      R"({"text":"tab\tand \u00e9 \ud83d\ude00","f":0,"dec":"0.1","ts":-1,"tsz":0})"
      "\n");
  auto schema = arrow::schema({
      arrow::field("text", arrow::utf8()),
      arrow::field("f", arrow::float32()),
      arrow::field("dec", arrow::decimal128(20, 2)),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MILLI)),
      arrow::field("tsz", arrow::timestamp(arrow::TimeUnit::SECOND, "America/New_York")),
  });
  auto out = ReadAll(path, schema);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ExpectTable(
      *out.table, schema,
      {R"(["1.50", "{\"x\": [1, 2]}", "[ ]", "true", "tab\tand é 😀"])",
       "[3, 100, -0.5, null, 0]",
       R"(["123456789012345678.25", "100.00", "-7.00", null, "0.10"])",
       "[1500, 1500, null, 0, -1]", "[1705314600, 1705314600, 1705314600, null, 0]"});
}

TEST(JsonReader, UnsupportedTypeAndBadArguments) {
  TempDir dir;
  std::string path = dir.Join("x.jsonl");
  WriteFile(path, "{\"a\":1}\n");
  auto list_schema = arrow::schema({arrow::field("l", arrow::list(arrow::int64()))});
  auto out = ReadAll(path, list_schema);
  EXPECT_TRUE(out.status.IsNotImplemented());
  EXPECT_TRUE(Contains(out.status.message(), "'l'")) << out.status.ToString();

  auto schema = arrow::schema({arrow::field("a", arrow::int64())});
  EXPECT_TRUE(ReadAll(path, schema, {1}).status.IsInvalid());
  EXPECT_TRUE(ReadAll(path, schema, {0, 0}).status.IsInvalid());
  auto twice = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("a", arrow::utf8())});
  EXPECT_TRUE(ReadAll(path, twice).status.IsInvalid());
  JsonOptions zero_rows;
  zero_rows.batch_rows = 0;
  EXPECT_TRUE(ReadAll(path, schema, {}, zero_rows).status.IsInvalid());

  auto missing = ReadAll(dir.Join("missing.jsonl"), schema);
  EXPECT_TRUE(missing.status.IsIOError());
  EXPECT_TRUE(Contains(missing.status.message(), "missing.jsonl"));
}

TEST(JsonReader, BatchesAndProjection) {
  TempDir dir;
  std::string path = dir.Join("p.jsonl");
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "{\"a\":" + std::to_string(i) + ",\"b\":\"s" + std::to_string(i) +
            "\",\"c\":" + std::to_string(i * 0.5) + "}\n";
  }
  WriteFile(path, text);
  auto schema =
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8()),
                     arrow::field("c", arrow::float64())});
  JsonOptions options;
  options.batch_rows = 3;
  auto out = ReadAll(path, schema, {2, 0}, options);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.batch_sizes, (std::vector<int64_t>{3, 3, 3, 1}));
  auto projected = arrow::schema({schema->field(2), schema->field(0)});
  EXPECT_TRUE(out.table->schema()->Equals(*projected));
  ExpectTable(
      *out.table, projected,
      {"[0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]", "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"});
  EXPECT_EQ(out.bytes_read, static_cast<int64_t>(text.size()));
}

TEST(JsonReader, ProjectionStillRejectsInvalidJson) {
  // A column that is not projected is not converted (a wrong type there goes unnoticed)
  // but it is still validated: whether a line is JSON does not depend on projection.
  TempDir dir;
  std::string path = dir.Join("p.jsonl");
  WriteFile(
      path,
      "{\"a\":1,\"b\":\"not a number\"}\n{\"a\":2,\"b\":tru}\n{\"a\":3,\"b\":[1,}\n");
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("b", arrow::int64())});
  BadRowHandler skip(OnError::kSkip);
  auto out = ReadAll(path, schema, {0}, {}, &skip);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ExpectTable(*out.table, arrow::schema({schema->field(0)}), {"[1]"});
  EXPECT_EQ(out.rows_rejected, 2);
}

// ---------------------------------------------------------------------------------
// Compression

TEST(JsonReader, GzipAndZstd) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "{\"n\":" + std::to_string(i) + ",\"s\":\"row " + std::to_string(i) + "\"}\n";
  }
  auto schema = arrow::schema(
      {arrow::field("n", arrow::int64()), arrow::field("s", arrow::utf8())});
  struct Case {
    std::string name;
    arrow::Compression::type type;
    Compression option;
  };
  for (const Case& c :
       {Case{"a.jsonl.gz", arrow::Compression::GZIP, Compression::kAuto},
        Case{"a.jsonl.zst", arrow::Compression::ZSTD, Compression::kAuto},
        Case{"gz_named_oddly.dat", arrow::Compression::GZIP, Compression::kGzip},
        Case{"zstd_named_oddly.dat", arrow::Compression::ZSTD, Compression::kZstd}}) {
    SCOPED_TRACE(c.name);
    std::string path = dir.Join(c.name);
    WriteCompressed(path, text, c.type);
    JsonOptions options;
    options.compression = c.option;
    options.batch_rows = 1000;
    auto out = ReadAll(path, schema, {}, options);
    ASSERT_TRUE(out.status.ok()) << out.status.ToString();
    EXPECT_EQ(out.table->num_rows(), 5000);
    auto n = std::static_pointer_cast<arrow::Int64Array>(out.table->column(0)->chunk(4));
    EXPECT_EQ(n->Value(999), 4999);
    EXPECT_EQ(out.bytes_read, *FileSize(path));
    EXPECT_LT(out.bytes_read, static_cast<int64_t>(text.size()));

    auto inferred = InferSchema(path, options);
    ASSERT_TRUE(inferred.ok()) << inferred.status().ToString();
    EXPECT_TRUE((*inferred)->Equals(*schema)) << (*inferred)->ToString();
  }
}

// ---------------------------------------------------------------------------------
// Inference

TEST(InferSchema, TypesFromValues) {
  TempDir dir;
  std::string path = dir.Join("infer.jsonl");
  WriteFile(
      path,
      R"({"i":1,"f":1,"b":true,"s":"x","d":"2024-01-01","t":"2024-01-01T10:00:00","tz":"2024-01-01T10:00:00Z","o":{"k":1},"a":[1],"n":null,"mix":1})"
      "\n"
      "this line is not JSON and is ignored, as is the next one\n"
      "{\"ignored_key\":1,\"i\":\"x\"\n"
      R"({"i":-5,"f":2.5,"b":false,"s":"y","d":"1999-12-31","t":"2024-01-02","tz":"2024-01-01T10:00:00","o":null,"a":[],"n":null,"mix":"1","late":1})"
      "\n");
  auto inferred = InferSchema(path, {});
  ASSERT_TRUE(inferred.ok()) << inferred.status().ToString();
  auto expected = arrow::schema({
      arrow::field("i", arrow::int64()),
      arrow::field("f", arrow::float64()),
      arrow::field("b", arrow::boolean()),
      arrow::field("s", arrow::utf8()),
      arrow::field("d", arrow::date32()),
      arrow::field("t", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("tz", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("o", arrow::utf8()),
      arrow::field("a", arrow::utf8()),
      arrow::field("n", arrow::utf8()),
      arrow::field("mix", arrow::utf8()),
      arrow::field("late", arrow::int64()),
  });
  EXPECT_TRUE((*inferred)->Equals(*expected)) << (*inferred)->ToString();

  // Reading with the inferred schema gives every good line back.
  BadRowHandler skip(OnError::kSkip);
  auto out = ReadAll(path, *inferred, {7, 8, 10}, {}, &skip);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ExpectTable(
      *out.table,
      arrow::schema({expected->field(7), expected->field(8), expected->field(10)}),
      {R"(["{\"k\":1}", null])", R"(["[1]", "[]"])", R"(["1", "1"])"});
  EXPECT_EQ(out.rows_rejected, 2);
}

TEST(InferSchema, SampleSizeOverridesAndEmptyFiles) {
  TempDir dir;
  std::string path = dir.Join("sample.jsonl");
  WriteFile(path, "{\"a\":1}\n\n{\"a\":2}\n{\"a\":2.5,\"b\":1}\n");
  JsonOptions options;
  options.infer_rows = 2;  // blank lines do not count
  auto inferred = InferSchema(path, options);
  ASSERT_TRUE(inferred.ok());
  EXPECT_TRUE((*inferred)->Equals(*arrow::schema({arrow::field("a", arrow::int64())})))
      << (*inferred)->ToString();

  options.infer_rows = 10;
  options.column_types["a"] = arrow::utf8();
  options.column_types["c"] = arrow::date32();
  inferred = InferSchema(path, options);
  ASSERT_TRUE(inferred.ok());
  EXPECT_TRUE((*inferred)->Equals(
      *arrow::schema({arrow::field("a", arrow::utf8()), arrow::field("b", arrow::int64()),
                      arrow::field("c", arrow::date32())})))
      << (*inferred)->ToString();

  std::string empty = dir.Join("empty.jsonl");
  WriteFile(empty, "\n\n");
  inferred = InferSchema(empty, {});
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ((*inferred)->num_fields(), 0);

  JsonOptions explicit_schema;
  explicit_schema.schema = arrow::schema({arrow::field("z", arrow::int8())});
  inferred = InferSchema(dir.Join("not read.jsonl"), explicit_schema);
  ASSERT_TRUE(inferred.ok());
  EXPECT_TRUE((*inferred)->Equals(*explicit_schema.schema));

  EXPECT_TRUE(InferSchema(dir.Join("missing.jsonl"), {}).status().IsIOError());
}

// ---------------------------------------------------------------------------------
// Bad rows

namespace {

// Five lines; line 3 has a string where an int64 belongs.
std::string WriteFiveLines(const TempDir& dir) {
  std::string path = dir.Join("file.jsonl");
  WriteFile(path,
            "{\"id\":1,\"name\":\"a\"}\n"
            "{\"id\":2,\"name\":\"b\"}\n"
            "{\"id\":\"abc\",\"name\":\"c\"}\n"
            "{\"id\":4,\"name\":\"d\"}\n"
            "{\"id\":5,\"name\":\"e\"}\n");
  return path;
}

std::shared_ptr<arrow::Schema> IdNameSchema() {
  return arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8())});
}

}  // namespace

TEST(JsonReaderBadRows, FailNamesFileLineColumnAndReason) {
  TempDir dir;
  std::string path = WriteFiveLines(dir);
  BadRowHandler fail(OnError::kFail);
  auto reader = JsonReader::Open(path, IdNameSchema(), {}, {}, &fail).ValueOrDie();
  auto batch = reader->Next();
  ASSERT_FALSE(batch.ok());
  const std::string message = batch.status().message();
  EXPECT_TRUE(Contains(message, "file.jsonl:3")) << message;
  EXPECT_TRUE(Contains(message, "column 'id'")) << message;
  EXPECT_TRUE(Contains(message, "expected int64, found string \"abc\"")) << message;
  EXPECT_FALSE(reader->Next().ok());  // the error sticks

  // Without a handler the reader fails the same way.
  auto no_handler = ReadAll(path, IdNameSchema());
  EXPECT_TRUE(Contains(no_handler.status.message(), "file.jsonl:3"));
}

TEST(JsonReaderBadRows, SkipCountsReconcile) {
  TempDir dir;
  std::string path = WriteFiveLines(dir);
  BadRowHandler skip(OnError::kSkip);
  JsonOptions options;
  options.batch_rows = 2;
  auto out = ReadAll(path, IdNameSchema(), {}, options, &skip);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ExpectTable(*out.table, IdNameSchema(), {"[1, 2, 4, 5]", R"(["a", "b", "d", "e"])"});
  EXPECT_EQ(out.rows_read, 5);
  EXPECT_EQ(out.rows_rejected, 1);
  EXPECT_EQ(skip.rejected(), 1);
  EXPECT_EQ(out.rows_read, out.table->num_rows() + out.rows_rejected);
}

TEST(JsonReaderBadRows, RejectWritesEveryKindOfBadLine) {
  TempDir dir;
  std::string path = dir.Join("bad.jsonl");
  const std::vector<std::string> lines = {
      R"({"i8":1,"s":"ok","ts":"2024-01-01T00:00:00","d":"1.5"})",  // 1 good
      R"({"i8":300})",                                              // 2 out of range
      R"({"i8":"abc"})",                                            // 3 wrong type
      R"({"i8":1,)",                                                // 4 invalid JSON
      R"([1,2,3])",                                                 // 5 not an object
      R"({"i8":1} {"i8":2})",                                       // 6 trailing content
      R"({"ts":"2024-01-01T00:00:00+01:00"})",  // 7 offset, naive column
      R"({"d":1.234})",                         // 8 too many decimals
      R"({"i8":1.5})",                          // 9 fraction for an int
      R"({"i8":"x","s":tru})",                  // 10 invalid JSON wins
      R"({"s":{"nested":"ok"},"i8":-128})",     // 11 good
      R"({"ts":"yesterday"})",                  // 12 cannot parse
  };
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteFile(path, text);
  auto schema =
      arrow::schema({arrow::field("i8", arrow::int8()), arrow::field("s", arrow::utf8()),
                     arrow::field("ts", arrow::timestamp(arrow::TimeUnit::SECOND)),
                     arrow::field("d", arrow::decimal128(5, 2))});
  std::string rejects = dir.Join("out/rejects.jsonl");
  BadRowHandler reject(OnError::kReject, rejects);
  auto out = ReadAll(path, schema, {}, {}, &reject);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_TRUE(reject.Close().ok());
  EXPECT_EQ(out.table->num_rows(), 2);
  EXPECT_EQ(out.rows_read, 12);
  EXPECT_EQ(out.rows_rejected, 10);
  EXPECT_EQ(reject.rejected(), 10);

  struct Expected {
    int64_t line;
    std::string column;
    std::string reason;  // a part of it
  };
  const std::vector<Expected> expected = {
      {2, "i8", "value 300 out of range for int8"},
      {3, "i8", "expected int8, found string \"abc\""},
      {4, "", "invalid JSON: "},
      {5, "", "not a JSON object (found array)"},
      {6, "", "invalid JSON: "},
      {7, "ts", "has a UTC offset"},
      {8, "d", "value 1.234 does not fit decimal128(5, 2)"},
      {9, "i8", "expected int8, found number 1.5"},
      {10, "", "invalid JSON: "},
      {12, "ts", "cannot parse \"yesterday\" as timestamp[s]"},
  };
  std::string written = sluice::testing::ReadFile(rejects);
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  ASSERT_EQ(parser.parse_many(written).get(stream), simdjson::SUCCESS);
  size_t i = 0;
  for (auto doc : stream) {
    ASSERT_LT(i, expected.size());
    simdjson::dom::element row;
    ASSERT_EQ(doc.get(row), simdjson::SUCCESS);
    SCOPED_TRACE(written);
    int64_t line = 0;
    std::string_view column, reason, raw, source;
    ASSERT_EQ(row["line"].get(line), simdjson::SUCCESS);
    ASSERT_EQ(row["column"].get(column), simdjson::SUCCESS);
    ASSERT_EQ(row["reason"].get(reason), simdjson::SUCCESS);
    ASSERT_EQ(row["raw"].get(raw), simdjson::SUCCESS);
    ASSERT_EQ(row["source"].get(source), simdjson::SUCCESS);
    EXPECT_EQ(line, expected[i].line);
    EXPECT_EQ(column, expected[i].column);
    EXPECT_TRUE(Contains(std::string(reason), expected[i].reason)) << reason;
    EXPECT_EQ(raw, lines[line - 1]);
    EXPECT_EQ(source, path);
    ++i;
  }
  EXPECT_EQ(i, expected.size());
}

// ---------------------------------------------------------------------------------
// Line splitting across blocks

TEST(LineReader, LinesAcrossSmallBlocks) {
  TempDir dir;
  std::string path = dir.Join("lines.txt");
  std::string long_line(1000, 'x');
  WriteFile(path, "a\r\n\n  \nbb\n" + long_line + "\n\r\nlast");
  for (int64_t block : {1, 2, 3, 7, 64, 1 << 20}) {
    SCOPED_TRACE(block);
    auto lines = internal::LineReader::Open(path, Compression::kNone, block).ValueOrDie();
    std::vector<std::pair<std::string, int64_t>> got;
    std::string_view line;
    while (*lines->Next(&line)) got.emplace_back(std::string(line), lines->line_number());
    EXPECT_EQ(got, (std::vector<std::pair<std::string, int64_t>>{
                       {"a", 1}, {"bb", 4}, {long_line, 5}, {"last", 7}}));
    EXPECT_TRUE(lines->at_end());
  }
}

// ---------------------------------------------------------------------------------
// Randomized round trip: random table -> JSON lines (written here) -> reader -> Equals.

namespace {

void AppendJsonString(std::string* out, const std::string& s, std::mt19937_64& rng) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out->append(buf);
    } else if (c >= 0x80) {
      // Non-ASCII characters: as they are, or as \u escapes (surrogate pairs above
      // U+FFFF), at random.
      int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (rng() % 2 == 0) {
        out->append(s, i, len);
        i += len;
        continue;
      }
      uint32_t cp = c & (0xFF >> (len + 1));
      for (int k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      char buf[16];
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (cp >> 10),
                      0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04X", cp);
      }
      out->append(buf);
      i += len;
      continue;
    } else {
      out->push_back(static_cast<char>(c));
    }
    ++i;
  }
  out->push_back('"');
}

std::string RandomString(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {
      "a",  "Z",  "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "é",   "ß",
      "中", "文", "😀", "𝄞", "{",  "}",  "[", "]",  ",",  ":",    "null", "true"};
  std::string s;
  size_t n = rng() % 12;
  for (size_t i = 0; i < n; ++i) s += kPieces[rng() % kPieces.size()];
  return s;
}

}  // namespace

TEST(JsonReader, RandomizedRoundTrip) {
  std::mt19937_64 rng(42);
  const int64_t kRows = 3000;
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("small", arrow::int32()),
       arrow::field("x", arrow::float64()), arrow::field("name", arrow::utf8()),
       arrow::field("flag", arrow::boolean())});
  arrow::Int64Builder ids;
  arrow::Int32Builder smalls;
  arrow::DoubleBuilder xs;
  arrow::StringBuilder names;
  arrow::BooleanBuilder flags;
  std::string text;
  for (int64_t r = 0; r < kRows; ++r) {
    // Each field: present, explicitly null, or missing (also null); random key order.
    std::vector<std::string> members;
    auto is_null = [&] { return rng() % 5 == 0; };
    auto add = [&](const std::string& key, const std::string& value) {
      members.push_back("\"" + key + "\":" + value);
    };
    auto null_member = [&](const std::string& key) {
      if (rng() % 2) add(key, "null");
    };
    if (is_null()) {
      ASSERT_TRUE(ids.AppendNull().ok());
      null_member("id");
    } else {
      int64_t v = static_cast<int64_t>(rng());
      if (rng() % 10 == 0) v = rng() % 2 ? INT64_MIN : INT64_MAX;
      ASSERT_TRUE(ids.Append(v).ok());
      add("id", std::to_string(v));
    }
    if (is_null()) {
      ASSERT_TRUE(smalls.AppendNull().ok());
      null_member("small");
    } else {
      int32_t v = static_cast<int32_t>(rng() % 2001) - 1000;
      ASSERT_TRUE(smalls.Append(v).ok());
      add("small", std::to_string(v));
    }
    if (is_null()) {
      ASSERT_TRUE(xs.AppendNull().ok());
      null_member("x");
    } else {
      double mantissa = std::uniform_real_distribution<double>(-1, 1)(rng);
      double v = mantissa * std::pow(10.0, static_cast<int>(rng() % 40) - 20);
      if (rng() % 10 == 0) v = static_cast<double>(static_cast<int>(rng() % 100));
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v);
      ASSERT_TRUE(xs.Append(v).ok());
      add("x", buf);
    }
    if (is_null()) {
      ASSERT_TRUE(names.AppendNull().ok());
      null_member("name");
    } else {
      std::string s = RandomString(rng);
      ASSERT_TRUE(names.Append(s).ok());
      std::string quoted;
      AppendJsonString(&quoted, s, rng);
      add("name", quoted);
    }
    if (is_null()) {
      ASSERT_TRUE(flags.AppendNull().ok());
      null_member("flag");
    } else {
      bool b = rng() % 2;
      ASSERT_TRUE(flags.Append(b).ok());
      add("flag", b ? "true" : "false");
    }
    if (rng() % 4 == 0) add("unknown", "{\"deep\":[1,2,{\"x\":\"y\"}]}");
    std::shuffle(members.begin(), members.end(), rng);
    std::string line = "{";
    const char* spaces[] = {"", " ", "  \t"};
    for (size_t m = 0; m < members.size(); ++m) {
      if (m > 0) line += std::string(spaces[rng() % 3]) + ",";
      line += spaces[rng() % 3] + members[m];
    }
    line += "}";
    text += line + (rng() % 3 == 0 ? "\r\n" : "\n");
    if (rng() % 20 == 0) text += "\n";  // blank lines are not rows
  }
  std::vector<std::shared_ptr<arrow::Array>> arrays(5);
  ASSERT_TRUE(ids.Finish(&arrays[0]).ok());
  ASSERT_TRUE(smalls.Finish(&arrays[1]).ok());
  ASSERT_TRUE(xs.Finish(&arrays[2]).ok());
  ASSERT_TRUE(names.Finish(&arrays[3]).ok());
  ASSERT_TRUE(flags.Finish(&arrays[4]).ok());
  auto expected = arrow::Table::Make(schema, arrays);

  TempDir dir;
  std::string path = dir.Join("random.jsonl");
  WriteFile(path, text);
  JsonOptions options;
  options.batch_rows = 700;
  auto out = ReadAll(path, schema, {}, options);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  auto actual = out.table->CombineChunks().ValueOrDie();
  ASSERT_EQ(actual->num_rows(), kRows);
  for (int c = 0; c < schema->num_fields(); ++c) {
    auto a = actual->column(c)->chunk(0);
    for (int64_t r = 0; r < kRows; ++r) {
      if (!a->RangeEquals(*arrays[c], r, r + 1, r)) {
        FAIL() << "column " << schema->field(c)->name() << " row " << r << ": got "
               << a->GetScalar(r).ValueOrDie()->ToString() << ", want "
               << arrays[c]->GetScalar(r).ValueOrDie()->ToString();
      }
    }
  }
  EXPECT_TRUE(actual->Equals(*expected));

  // The same file through inference (small is an int64 there; the column order is the
  // first line's key order, which is random).
  auto inferred = InferSchema(path, {});
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ((*inferred)->num_fields(), 6) << (*inferred)->ToString();
  for (const auto& [name, type] :
       std::vector<std::pair<std::string, std::shared_ptr<arrow::DataType>>>{
           {"id", arrow::int64()},
           {"small", arrow::int64()},
           {"x", arrow::float64()},
           {"name", arrow::utf8()},
           {"flag", arrow::boolean()},
           {"unknown", arrow::utf8()}}) {
    auto field = (*inferred)->GetFieldByName(name);
    ASSERT_NE(field, nullptr) << name;
    EXPECT_TRUE(field->type()->Equals(*type))
        << name << ": " << field->type()->ToString();
  }
}

}  // namespace sluice::json
