#include "sluice/connector/csv/csv_reader.h"

#include <arrow/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/compressed.h>
#include <arrow/io/file.h>
#include <arrow/json/from_string.h>
#include <arrow/util/compression.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "sluice/testing/temp_dir.h"

namespace sluice::csv {
namespace {

using sluice::testing::ReadFile;
using sluice::testing::TempDir;
using sluice::testing::WriteFile;

#define CSV_ASSERT_OK(expr)                                   \
  do {                                                        \
    ::arrow::Status _st = (expr);                             \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString(); \
  } while (false)

#define CSV_CONCAT_INNER(a, b) a##b
#define CSV_CONCAT(a, b) CSV_CONCAT_INNER(a, b)
#define CSV_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)                \
  auto tmp = (rexpr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #rexpr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).ValueOrDie();
#define CSV_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  CSV_ASSERT_OK_AND_ASSIGN_IMPL(CSV_CONCAT(_result_, __LINE__), lhs, rexpr)

std::shared_ptr<arrow::Array> Json(const std::shared_ptr<arrow::DataType>& type,
                                   const std::string& json) {
  auto result = arrow::json::ArrayFromJSONString(type, json);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ValueOrDie();
}

struct ReadResult {
  std::shared_ptr<arrow::Table> table;
  std::vector<int64_t> batch_sizes;
  int64_t rows_read = 0;
  int64_t rows_rejected = 0;
  int64_t bytes_read = 0;
};

// Reads a whole file, checking each batch and the row count invariant after each batch.
Result<ReadResult> ReadCsv(const std::string& path, std::shared_ptr<arrow::Schema> schema,
                           const CsvOptions& options, BadRowHandler* bad_rows,
                           std::vector<int> projection = {}) {
  ARROW_ASSIGN_OR_RAISE(auto reader,
                        CsvReader::Open(path, schema, projection, options, bad_rows));
  ReadResult out;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  int64_t returned = 0;
  for (;;) {
    ARROW_ASSIGN_OR_RAISE(auto batch, reader->Next());
    if (batch == nullptr) break;
    ARROW_RETURN_NOT_OK(batch->ValidateFull());
    returned += batch->num_rows();
    out.batch_sizes.push_back(batch->num_rows());
    if (reader->rows_read() != returned + reader->rows_rejected()) {
      return Status::Invalid("rows_read ", reader->rows_read(), " != returned ", returned,
                             " + rejected ", reader->rows_rejected());
    }
    batches.push_back(batch);
  }
  // At the end, and again: Next() keeps returning nullptr.
  ARROW_ASSIGN_OR_RAISE(auto after_end, reader->Next());
  if (after_end != nullptr) return Status::Invalid("batch after the end");
  ARROW_ASSIGN_OR_RAISE(
      out.table, arrow::Table::FromRecordBatches(reader->output_schema(), batches));
  out.rows_read = reader->rows_read();
  out.rows_rejected = reader->rows_rejected();
  out.bytes_read = reader->bytes_read();
  return out;
}

// Reads `text` (written to dir/name) with InferSchema unless a schema is given.
Result<ReadResult> ReadText(const TempDir& dir, const std::string& text,
                            CsvOptions options,
                            std::shared_ptr<arrow::Schema> schema = nullptr,
                            std::vector<int> projection = {},
                            const std::string& name = "file.csv") {
  std::string path = dir.Join(name);
  WriteFile(path, text);
  if (schema == nullptr) {
    ARROW_ASSIGN_OR_RAISE(schema, InferSchema(path, options));
  }
  BadRowHandler handler(OnError::kFail);
  return ReadCsv(path, schema, options, &handler, std::move(projection));
}

void ExpectColumn(const ReadResult& r, int i,
                  const std::shared_ptr<arrow::Array>& expected) {
  ASSERT_LT(i, r.table->num_columns());
  auto actual = r.table->column(i);
  ASSERT_TRUE(actual->type()->Equals(expected->type()))
      << "column " << i << ": " << actual->type()->ToString() << " vs "
      << expected->type()->ToString();
  arrow::ChunkedArray expected_chunked(expected);
  EXPECT_TRUE(actual->Equals(expected_chunked))
      << "column " << r.table->field(i)->name() << "\nactual:   " << actual->ToString()
      << "\nexpected: " << expected->ToString();
}

// ---------------------------------------------------------------------------
// Types and nulls

TEST(CsvReaderTest, TypesAndNulls) {
  TempDir dir;
  auto schema = arrow::schema({
      arrow::field("b", arrow::boolean()),
      arrow::field("i8", arrow::int8()),
      arrow::field("u16", arrow::uint16()),
      arrow::field("i64", arrow::int64()),
      arrow::field("f32", arrow::float32()),
      arrow::field("f64", arrow::float64()),
      arrow::field("d", arrow::decimal128(10, 2)),
      arrow::field("s", arrow::utf8()),
      arrow::field("ls", arrow::large_utf8()),
      arrow::field("dt", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("tsz", arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")),
      arrow::field("u64", arrow::uint64()),
      arrow::field("i32", arrow::int32()),
  });
  std::string text =
      "b,i8,u16,i64,f32,f64,d,s,ls,dt,ts,tsz,u64,i32\n"
      "true,-128,65535,-9223372036854775808,1.5,-2e10,12.345,abc,\"x, y\",2024-02-29,"
      "2024-01-02 03:04:05.123456,2024-01-02T03:04:05Z,18446744073709551615,-2147483648\n"
      "FALSE,127,0,9223372036854775807,-0.25,1e308,-0.005,\"\",,1970-01-01,"
      "2024-01-02T03:04:05.5+01:00,1999-12-31 23:59:59-05:30,0,2147483647\n"
      ",,,,,,,,,,,,,\n"
      "1, +5 ,\t7 ,+42,3,0.1,99999999.99,NULL,\"NULL\",1969-12-31,2024-01-02 03:04,"
      "2024-01-02 03:04:05.123456789Z,+7,-0\n"
      "0,\"-1\",\"\",1,\"\",  ,\"1e2\",quoted,x,\"2000-01-01\",2000-01-01,2000-01-01,\" "
      "8 \",00012\n";
  CsvOptions options;
  options.null_values = {"", "NULL"};
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadText(dir, text, options, schema));
  EXPECT_EQ(r.rows_read, 5);
  EXPECT_EQ(r.rows_rejected, 0);
  ExpectColumn(r, 0, Json(arrow::boolean(), "[true, false, null, true, false]"));
  ExpectColumn(r, 1, Json(arrow::int8(), "[-128, 127, null, 5, -1]"));
  ExpectColumn(r, 2, Json(arrow::uint16(), "[65535, 0, null, 7, null]"));
  ExpectColumn(
      r, 3,
      Json(arrow::int64(), "[-9223372036854775808, 9223372036854775807, null, 42, 1]"));
  ExpectColumn(r, 4, Json(arrow::float32(), "[1.5, -0.25, null, 3, null]"));
  ExpectColumn(r, 5, Json(arrow::float64(), "[-2e10, 1e308, null, 0.1, null]"));
  ExpectColumn(r, 6,
               Json(arrow::decimal128(10, 2),
                    R"(["12.35", "-0.01", null, "99999999.99", "100.00"])"));
  ExpectColumn(r, 7, Json(arrow::utf8(), R"(["abc", "", null, null, "quoted"])"));
  ExpectColumn(r, 8, Json(arrow::large_utf8(), R"(["x, y", null, null, "NULL", "x"])"));
  ExpectColumn(r, 9, Json(arrow::date32(), "[19782, 0, null, -1, 10957]"));
  ExpectColumn(r, 10,
               Json(arrow::timestamp(arrow::TimeUnit::MICRO),
                    R"(["2024-01-02 03:04:05.123456", "2024-01-02 02:04:05.5", null,
                               "2024-01-02 03:04:00", "2000-01-01"])"));
  ExpectColumn(r, 11,
               Json(arrow::timestamp(arrow::TimeUnit::MILLI, "UTC"),
                    R"(["2024-01-02 03:04:05", "2000-01-01 05:29:59", null,
                               "2024-01-02 03:04:05.123", "2000-01-01"])"));
  ExpectColumn(r, 12, Json(arrow::uint64(), "[18446744073709551615, 0, null, 7, 8]"));
  ExpectColumn(r, 13, Json(arrow::int32(), "[-2147483648, 2147483647, null, 0, 12]"));
}

TEST(CsvReaderTest, FloatSpecialValues) {
  TempDir dir;
  auto schema = arrow::schema({arrow::field("f", arrow::float64())});
  CsvOptions options;
  CSV_ASSERT_OK_AND_ASSIGN(
      ReadResult r, ReadText(dir, "f\ninf\n-inf\nnan\n+1.5\n1E-3\nInfinity\n-0\n.5\n5.\n",
                             options, schema));
  auto values =
      std::static_pointer_cast<arrow::DoubleArray>(r.table->column(0)->chunk(0));
  ASSERT_EQ(values->length(), 9);
  EXPECT_TRUE(std::isinf(values->Value(0)) && values->Value(0) > 0);
  EXPECT_TRUE(std::isinf(values->Value(1)) && values->Value(1) < 0);
  EXPECT_TRUE(std::isnan(values->Value(2)));
  EXPECT_EQ(values->Value(3), 1.5);
  EXPECT_EQ(values->Value(4), 0.001);
  EXPECT_TRUE(std::isinf(values->Value(5)));
  EXPECT_TRUE(values->Value(6) == 0 && std::signbit(values->Value(6)));
  EXPECT_EQ(values->Value(7), 0.5);
  EXPECT_EQ(values->Value(8), 5.0);
}

TEST(CsvReaderTest, BinaryTakesAnyBytesUtf8IsValidated) {
  TempDir dir;
  auto schema = arrow::schema({arrow::field("id", arrow::int64()),
                               arrow::field("b", arrow::binary()),
                               arrow::field("s", arrow::utf8())});
  std::string text =
      "id,b,s\n1,\xff\xfe,\xc3\xa9t\xc3\xa9\n2,ok,\xff\n3,\xc3,\xe6\x97\xa5\n";
  std::string path = dir.Join("file.csv");
  WriteFile(path, text);
  BadRowHandler handler(OnError::kSkip);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, schema, CsvOptions{}, &handler));
  EXPECT_EQ(r.rows_rejected, 1);
  ExpectColumn(r, 0, Json(arrow::int64(), "[1, 3]"));
  ExpectColumn(r, 2, Json(arrow::utf8(), "[\"\xc3\xa9t\xc3\xa9\", \"\xe6\x97\xa5\"]"));
  auto b = std::static_pointer_cast<arrow::BinaryArray>(r.table->column(1)->chunk(0));
  EXPECT_EQ(b->GetView(0), "\xff\xfe");
  EXPECT_EQ(b->GetView(1), "\xc3");
}

TEST(CsvReaderTest, UnsupportedTypeAndBadProjection) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, "a\n1\n");
  BadRowHandler handler(OnError::kFail);
  auto list_schema = arrow::schema({arrow::field("a", arrow::list(arrow::int32()))});
  auto result = CsvReader::Open(path, list_schema, {}, CsvOptions{}, &handler);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsNotImplemented()) << result.status().ToString();
  EXPECT_NE(result.status().message().find("'a'"), std::string::npos);
  auto schema = arrow::schema({arrow::field("a", arrow::int32())});
  EXPECT_FALSE(CsvReader::Open(path, schema, {1}, CsvOptions{}, &handler).ok());
  EXPECT_FALSE(
      CsvReader::Open(dir.Join("missing.csv"), schema, {}, CsvOptions{}, &handler).ok());
  auto two = arrow::schema(
      {arrow::field("a", arrow::int32()), arrow::field("b", arrow::int32())});
  auto header_mismatch = CsvReader::Open(path, two, {}, CsvOptions{}, &handler);
  ASSERT_FALSE(header_mismatch.ok());
  EXPECT_NE(header_mismatch.status().message().find("header has 1 fields"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// Quoting, escapes, line endings

TEST(CsvReaderTest, QuotingAndEmbeddedNewlines) {
  TempDir dir;
  std::string text =
      "id,text\n"
      "1,\"a,b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"line1\nline2\r\nline3\"\n"
      "4,\"\"\"\"\n"
      "5,plain \"quote\" inside\n"
      "6,\"\"\n"
      "7,\n";
  CsvOptions options;
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("text", arrow::utf8())});
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadText(dir, text, options, schema));
  ExpectColumn(r, 0, Json(arrow::int64(), "[1, 2, 3, 4, 5, 6, 7]"));
  ExpectColumn(r, 1,
               Json(arrow::utf8(),
                    R"(["a,b", "say \"hi\"", "line1\nline2\r\nline3", "\"",
                              "plain \"quote\" inside", "", null])"));
}

TEST(CsvReaderTest, LineNumbersAfterEmbeddedNewlines) {
  TempDir dir;
  // Physical lines: 1 header, 2-4 one record, 5 empty, 6 bad, 7-8 one record, 9 bad.
  std::string text =
      "id,text\r\n"
      "1,\"a\r\nb\r\nc\"\r\n"
      "\r\n"
      "x,bad\r\n"
      "3,\"d\ne\"\r\n"
      "4,e,extra\r\n";
  std::string path = dir.Join("file.csv");
  WriteFile(path, text);
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("text", arrow::utf8())});
  BadRowHandler handler(OnError::kReject, dir.Join("rejects.jsonl"));
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, schema, CsvOptions{}, &handler));
  CSV_ASSERT_OK(handler.Close());
  ExpectColumn(r, 0, Json(arrow::int64(), "[1, 3]"));
  ExpectColumn(r, 1, Json(arrow::utf8(), R"(["a\r\nb\r\nc", "d\ne"])"));
  std::string rejects = ReadFile(dir.Join("rejects.jsonl"));
  std::string expected = fmt::format(
      "{{\"source\":\"{0}\",\"line\":6,\"column\":\"id\",\"reason\":\"cannot parse 'x' "
      "as "
      "int64\",\"raw\":\"x,bad\"}}\n"
      "{{\"source\":\"{0}\",\"line\":9,\"column\":\"\",\"reason\":\"expected 2 fields, "
      "found "
      "3\",\"raw\":\"4,e,extra\"}}\n",
      path);
  EXPECT_EQ(rejects, expected);
}

TEST(CsvReaderTest, EscapeCharacter) {
  TempDir dir;
  std::string text =
      "a,b\n"
      "\"x\\\"y\",p\\,q\n"
      "\"back\\\\slash\",\"new\\\nline\"\n"
      "\"dq\"\"still\",z\n";
  CsvOptions options;
  options.escape = '\\';
  auto schema =
      arrow::schema({arrow::field("a", arrow::utf8()), arrow::field("b", arrow::utf8())});
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadText(dir, text, options, schema));
  ExpectColumn(r, 0, Json(arrow::utf8(), R"(["x\"y", "back\\slash", "dq\"still"])"));
  ExpectColumn(r, 1, Json(arrow::utf8(), R"(["p,q", "new\nline", "z"])"));
}

TEST(CsvReaderTest, NoQuoting) {
  TempDir dir;
  CsvOptions options;
  options.quote = '\0';
  auto schema = arrow::schema(
      {arrow::field("a", arrow::utf8()), arrow::field("b", arrow::int32())});
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r,
                           ReadText(dir, "a,b\n\"x\",1\n\"\"y\",2\n", options, schema));
  ExpectColumn(r, 0, Json(arrow::utf8(), R"(["\"x\"", "\"\"y\""])"));
}

TEST(CsvReaderTest, LineEndingsBomEmptyLinesNoFinalNewline) {
  TempDir dir;
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int32()), arrow::field("b", arrow::utf8())});
  for (const std::string& text : {
           std::string("\xEF\xBB\xBF"
                       "a,b\r\n1,x\r\n\r\n2,y\r\n\n3,z"),
           std::string("\n\na,b\n1,x\n2,y\n\n\n3,z\n\n"),
           std::string("\xEF\xBB\xBF"
                       "a,b\n1,x\r\n2,y\n3,z\r\n"),
           std::string("a,b\n1,\"x\"\n2,\"y\"\r\n3,\"z\""),
       }) {
    CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadText(dir, text, CsvOptions{}, schema));
    ExpectColumn(r, 0, Json(arrow::int32(), "[1, 2, 3]"));
    ExpectColumn(r, 1, Json(arrow::utf8(), R"(["x", "y", "z"])"));
    EXPECT_EQ(r.rows_read, 3);
  }
  // The BOM does not end up in the first column name.
  std::string path = dir.Join("bom.csv");
  WriteFile(path,
            "\xEF\xBB\xBF"
            "a,b\n1,2\n");
  CSV_ASSERT_OK_AND_ASSIGN(auto inferred, InferSchema(path, CsvOptions{}));
  EXPECT_EQ(inferred->field(0)->name(), "a");
}

TEST(CsvReaderTest, HeaderAndNoHeader) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, "1,x\n2,y\n");
  CsvOptions options;
  options.header = false;
  CSV_ASSERT_OK_AND_ASSIGN(auto schema, InferSchema(path, options));
  EXPECT_TRUE(schema->Equals(*arrow::schema(
      {arrow::field("column0", arrow::int64()), arrow::field("column1", arrow::utf8())})))
      << schema->ToString();
  BadRowHandler handler(OnError::kFail);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, schema, options, &handler));
  ExpectColumn(r, 0, Json(arrow::int64(), "[1, 2]"));

  options.column_names = {"id", "name"};
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(path, options));
  EXPECT_EQ(schema->field(1)->name(), "name");
  options.column_names = {"id", "name", "extra"};
  auto wrong = InferSchema(path, options);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("column_names has 3 names"), std::string::npos);

  // With a header the first row is names, not data.
  options = CsvOptions{};
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(path, options));
  EXPECT_EQ(schema->field(0)->name(), "1");
  CSV_ASSERT_OK_AND_ASSIGN(r, ReadCsv(path, schema, options, &handler));
  EXPECT_EQ(r.table->num_rows(), 1);
}

TEST(CsvReaderTest, CustomDelimiters) {
  TempDir dir;
  auto schema =
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8()),
                     arrow::field("c", arrow::float64())});
  for (char delimiter : {'\t', '|', ';'}) {
    std::string d(1, delimiter);
    std::string text = "a" + d + "b" + d + "c\n1" + d + "x,y" + d + "1.5\n2" + d + "\"p" +
                       d + "q\"" + d + "2\n";
    CsvOptions options;
    options.delimiter = delimiter;
    CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadText(dir, text, options));
    EXPECT_TRUE(r.table->schema()->Equals(*schema)) << r.table->schema()->ToString();
    ExpectColumn(r, 0, Json(arrow::int64(), "[1, 2]"));
    arrow::StringBuilder expected;
    CSV_ASSERT_OK(expected.AppendValues({"x,y", "p" + d + "q"}));
    ExpectColumn(r, 1, expected.Finish().ValueOrDie());
    ExpectColumn(r, 2, Json(arrow::float64(), "[1.5, 2]"));
  }
}

TEST(CsvReaderTest, InvalidOptions) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, "a\n1\n");
  CsvOptions options;
  options.delimiter = '\n';
  EXPECT_FALSE(InferSchema(path, options).ok());
  options = CsvOptions{};
  options.quote = ',';
  EXPECT_FALSE(InferSchema(path, options).ok());
  options = CsvOptions{};
  options.batch_rows = 0;
  EXPECT_FALSE(InferSchema(path, options).ok());
}

// ---------------------------------------------------------------------------
// Compression

Status WriteCompressed(const std::string& path, const std::string& text,
                       arrow::Compression::type type) {
  ARROW_ASSIGN_OR_RAISE(auto codec, arrow::util::Codec::Create(type));
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::FileOutputStream::Open(path));
  ARROW_ASSIGN_OR_RAISE(auto stream,
                        arrow::io::CompressedOutputStream::Make(codec.get(), file));
  ARROW_RETURN_NOT_OK(stream->Write(text.data(), static_cast<int64_t>(text.size())));
  ARROW_RETURN_NOT_OK(stream->Close());
  return file->Close();
}

TEST(CsvReaderTest, GzipAndZstd) {
  TempDir dir;
  std::string text = "id,name\n";
  for (int i = 0; i < 20000; ++i)
    text += fmt::format("{},\"name {}\nsecond line\"\n", i, i * 7);
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8())});
  CsvOptions options;
  options.block_bytes = 4096;  // many blocks
  std::string plain = dir.Join("plain.csv");
  WriteFile(plain, text);
  BadRowHandler handler(OnError::kFail);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult expected,
                           ReadCsv(plain, schema, options, &handler));
  EXPECT_EQ(expected.bytes_read, static_cast<int64_t>(text.size()));
  ASSERT_EQ(expected.table->num_rows(), 20000);

  struct Case {
    std::string name;
    arrow::Compression::type type;
    Compression option;
  };
  for (const Case& c :
       {Case{"data.csv.gz", arrow::Compression::GZIP, Compression::kAuto},
        Case{"data.csv.zst", arrow::Compression::ZSTD, Compression::kAuto},
        Case{"gzip-no-suffix", arrow::Compression::GZIP, Compression::kGzip},
        Case{"zstd-no-suffix", arrow::Compression::ZSTD, Compression::kZstd}}) {
    SCOPED_TRACE(c.name);
    std::string path = dir.Join(c.name);
    CSV_ASSERT_OK(WriteCompressed(path, text, c.type));
    CsvOptions compressed_options = options;
    compressed_options.compression = c.option;
    CSV_ASSERT_OK_AND_ASSIGN(auto inferred, InferSchema(path, compressed_options));
    EXPECT_TRUE(inferred->Equals(*schema)) << inferred->ToString();
    CSV_ASSERT_OK_AND_ASSIGN(ReadResult r,
                             ReadCsv(path, schema, compressed_options, &handler));
    EXPECT_TRUE(r.table->Equals(*expected.table));
    CSV_ASSERT_OK_AND_ASSIGN(int64_t size, FileSize(path));
    EXPECT_EQ(r.bytes_read, size);  // compressed bytes
    EXPECT_LT(size, static_cast<int64_t>(text.size()));
  }
}

// ---------------------------------------------------------------------------
// Inference

TEST(CsvReaderTest, InferSchemaTypes) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(
      path,
      "i,f,b,d,ts,tsz,s,empty,mixed_dt,big,sp\n"
      "1,1.5,true,2024-01-01,2024-01-01 "
      "10:00:00,2024-01-01T10:00:00Z,abc,,2024-01-01,1,\" 3 \"\n"
      "-2,2,False,2024-12-31,2024-01-01T10:00:00.123456,2024-01-01 10:00:00+02:00,1,,"
      "2024-01-01 00:00:01,99999999999999999999,4\n"
      "1,2,3\n"  // malformed: ignored for inference
      ",nan,,,,,\"\",,,,\n"
      "+3,-1e5,TRUE,1970-01-01,1970-01-01 00:00:00,1970-01-01 00:00:00.5-01:30,x,,,,\n");
  CSV_ASSERT_OK_AND_ASSIGN(auto schema, InferSchema(path, CsvOptions{}));
  auto expected = arrow::schema({
      arrow::field("i", arrow::int64()),
      arrow::field("f", arrow::float64()),
      arrow::field("b", arrow::boolean()),
      arrow::field("d", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("tsz", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("s", arrow::utf8()),
      arrow::field("empty", arrow::utf8()),
      arrow::field("mixed_dt", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("big", arrow::float64()),
      arrow::field("sp", arrow::int64()),
  });
  EXPECT_TRUE(schema->Equals(*expected)) << schema->ToString();

  // The inferred schema reads the file (the malformed row is rejected).
  BadRowHandler handler(OnError::kSkip);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, schema, CsvOptions{}, &handler));
  EXPECT_EQ(r.table->num_rows(), 4);
  EXPECT_EQ(r.rows_rejected, 1);

  // A value beyond the sample changes nothing.
  CsvOptions options;
  options.infer_rows = 1;
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(path, options));
  EXPECT_EQ(schema->field(1)->type()->id(), arrow::Type::DOUBLE);
  EXPECT_EQ(schema->field(6)->type()->id(), arrow::Type::STRING);
  EXPECT_EQ(schema->field(9)->type()->id(), arrow::Type::INT64);

  // column_types overrides.
  options = CsvOptions{};
  options.column_types = {{"i", arrow::int16()}, {"s", arrow::large_utf8()}};
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(path, options));
  EXPECT_TRUE(schema->field(0)->type()->Equals(arrow::int16()));
  EXPECT_TRUE(schema->field(6)->type()->Equals(arrow::large_utf8()));
  options.column_types = {{"nope", arrow::int16()}};
  auto unknown = InferSchema(path, options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'nope'"), std::string::npos);

  // An explicit schema is returned as is.
  options = CsvOptions{};
  options.schema = arrow::schema({arrow::field("x", arrow::int8())});
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(path, options));
  EXPECT_TRUE(schema->Equals(*options.schema));
}

TEST(CsvReaderTest, InferSchemaTimestampFormatAndEmptyFile) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path,
            "when,day,other\n31/12/2024 23:59:58,31/12/2024,1\n01/02/2023 "
            "00:00:00,01/02/2023,x\n");
  CsvOptions options;
  options.timestamp_format = "%d/%m/%Y %H:%M:%S";
  CSV_ASSERT_OK_AND_ASSIGN(auto schema, InferSchema(path, options));
  EXPECT_TRUE(schema->field(0)->type()->Equals(arrow::timestamp(arrow::TimeUnit::MICRO)));
  EXPECT_TRUE(
      schema->field(1)->type()->Equals(arrow::utf8()));  // does not match the format
  EXPECT_TRUE(schema->field(2)->type()->Equals(arrow::utf8()));
  BadRowHandler handler(OnError::kFail);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, schema, options, &handler));
  ExpectColumn(r, 0,
               Json(arrow::timestamp(arrow::TimeUnit::MICRO),
                    R"(["2024-12-31 23:59:58", "2023-02-01"])"));

  options.timestamp_format = "%d/%m/%Y";
  auto date_schema = arrow::schema({arrow::field("when", arrow::utf8()),
                                    arrow::field("day", arrow::date32()),
                                    arrow::field("other", arrow::utf8())});
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(path, options));
  EXPECT_TRUE(schema->Equals(*date_schema)) << schema->ToString();
  CSV_ASSERT_OK_AND_ASSIGN(r, ReadCsv(path, schema, options, &handler));
  ExpectColumn(r, 1, Json(arrow::date32(), "[20088, 19389]"));

  std::string empty = dir.Join("empty.csv");
  WriteFile(empty, "");
  EXPECT_FALSE(InferSchema(empty, CsvOptions{}).ok());
  // Reading an empty file with a schema gives no rows.
  auto schema1 = arrow::schema({arrow::field("a", arrow::int32())});
  CSV_ASSERT_OK_AND_ASSIGN(r, ReadCsv(empty, schema1, CsvOptions{}, &handler));
  EXPECT_EQ(r.table->num_rows(), 0);
  WriteFile(empty, "a\n\n\n");
  CSV_ASSERT_OK_AND_ASSIGN(r, ReadCsv(empty, schema1, CsvOptions{}, &handler));
  EXPECT_EQ(r.table->num_rows(), 0);
  CSV_ASSERT_OK_AND_ASSIGN(schema, InferSchema(empty, CsvOptions{}));
  EXPECT_TRUE(schema->Equals(*arrow::schema({arrow::field("a", arrow::utf8())})));
}

// ---------------------------------------------------------------------------
// Projection

TEST(CsvReaderTest, Projection) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, "a,b,c\n1,x,1.5\n2,not_int_but_unused,2.5\n3,z\n4,w,4.5\n");
  auto schema =
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::int64()),
                     arrow::field("c", arrow::float64())});
  BadRowHandler handler(OnError::kSkip);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r,
                           ReadCsv(path, schema, CsvOptions{}, &handler, {2, 0}));
  EXPECT_TRUE(r.table->schema()->Equals(*arrow::schema(
      {arrow::field("c", arrow::float64()), arrow::field("a", arrow::int64())})));
  ExpectColumn(r, 0, Json(arrow::float64(), "[1.5, 2.5, 4.5]"));
  ExpectColumn(r, 1, Json(arrow::int64(), "[1, 2, 4]"));
  // b is not converted, so only the short row is bad.
  EXPECT_EQ(r.rows_rejected, 1);
  EXPECT_EQ(r.rows_read, 4);

  // Projecting b finds its bad values.
  BadRowHandler handler2(OnError::kSkip);
  CSV_ASSERT_OK_AND_ASSIGN(r, ReadCsv(path, schema, CsvOptions{}, &handler2, {1}));
  EXPECT_EQ(r.rows_rejected, 4);
  EXPECT_EQ(r.table->num_rows(), 0);
  // The same column twice.
  BadRowHandler handler3(OnError::kSkip);
  CSV_ASSERT_OK_AND_ASSIGN(r, ReadCsv(path, schema, CsvOptions{}, &handler3, {0, 0}));
  ExpectColumn(r, 1, Json(arrow::int64(), "[1, 2, 4]"));
}

// ---------------------------------------------------------------------------
// Bad rows

const char* kBadText =
    "id,u,d,dt,s\n"
    "1,1,1.5,2024-01-01,ok\n"
    "x,1,1.5,2024-01-01,ok\n"
    "2,256,1.5,2024-01-01,ok\n"
    "3,-1,1.5,2024-01-01,ok\n"
    "4,1,1000.00,2024-01-01,ok\n"
    "5,1,999.994,2024-01-01,ok\n"
    "6,1,999.995,2024-01-01,ok\n"
    "7,1,1,2024-01-01\n"
    "8,1,1,2024-01-01,ok,extra\n"
    "9,1,1,2024-01-01,\"a\"b\n"
    "10,1,bad,2024-02-30,fine\n"
    "11,1,1,2024-02-30,fine\n"
    "12,1,1,2024-01-01,\"open\n"
    "still open, to the end\n";

std::shared_ptr<arrow::Schema> BadSchema() {
  return arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("u", arrow::uint8()),
       arrow::field("d", arrow::decimal128(5, 2)), arrow::field("dt", arrow::date32()),
       arrow::field("s", arrow::utf8())});
}

TEST(CsvReaderTest, BadRowsReject) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, kBadText);
  std::string rejects_path = dir.Join("out/rejects.jsonl");
  BadRowHandler handler(OnError::kReject, rejects_path);
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r,
                           ReadCsv(path, BadSchema(), CsvOptions{}, &handler));
  CSV_ASSERT_OK(handler.Close());
  ExpectColumn(r, 0, Json(arrow::int64(), "[1, 5]"));
  ExpectColumn(r, 2, Json(arrow::decimal128(5, 2), R"(["1.50", "999.99"])"));
  EXPECT_EQ(r.rows_read, 13);
  EXPECT_EQ(r.rows_rejected, 11);
  EXPECT_EQ(handler.rejected(), 11);
  auto line = [&](int n, const char* column, const char* reason, const char* raw) {
    return fmt::format(
        "{{\"source\":\"{}\",\"line\":{},\"column\":\"{}\",\"reason\":\"{}\",\"raw\":\"{}"
        "\"}}\n",
        path, n, column, reason, raw);
  };
  // Line 7 is good: 999.994 rounds to 999.99. Line 12 has two bad values: the first
  // column is reported.
  std::string expected =
      line(3, "id", "cannot parse 'x' as int64", "x,1,1.5,2024-01-01,ok") +
      line(4, "u", "cannot parse '256' as uint8: out of range",
           "2,256,1.5,2024-01-01,ok") +
      line(5, "u", "cannot parse '-1' as uint8: out of range", "3,-1,1.5,2024-01-01,ok") +
      line(6, "d", "cannot parse '1000.00' as decimal128(5, 2): out of range",
           "4,1,1000.00,2024-01-01,ok") +
      line(8, "d", "cannot parse '999.995' as decimal128(5, 2): out of range",
           "6,1,999.995,2024-01-01,ok") +
      line(9, "", "expected 5 fields, found 4", "7,1,1,2024-01-01") +
      line(10, "", "expected 5 fields, found 6", "8,1,1,2024-01-01,ok,extra") +
      line(11, "", "unexpected 'b' after closing quote", "9,1,1,2024-01-01,\\\"a\\\"b") +
      line(12, "d", "cannot parse 'bad' as decimal128(5, 2)",
           "10,1,bad,2024-02-30,fine") +
      line(13, "dt", "cannot parse '2024-02-30' as date32", "11,1,1,2024-02-30,fine") +
      line(14, "", "unterminated quoted field (the file ends inside quotes)",
           "12,1,1,2024-01-01,\\\"open\\nstill open, to the end");
  EXPECT_EQ(ReadFile(rejects_path), expected);
}

TEST(CsvReaderTest, BadRowsSkip) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, kBadText);
  BadRowHandler handler(OnError::kSkip);
  CsvOptions options;
  options.batch_rows = 1;  // bad rows between batches
  CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, BadSchema(), options, &handler));
  EXPECT_EQ(r.rows_read, 13);
  EXPECT_EQ(r.rows_rejected, 11);
  EXPECT_EQ(handler.rejected(), 11);
  EXPECT_EQ(r.batch_sizes, (std::vector<int64_t>{1, 1}));
}

TEST(CsvReaderTest, BadRowsFailNamesFileAndLine) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  // Line 1 header, 2 good, 3-4 one record, 5 empty, 6 good, 7 bad, 8 good.
  WriteFile(path,
            "id,note,qty\n"
            "1,,10\n"
            "2,\"two\n"
            "lines\",20\n"
            "\n"
            "3,x,30\n"
            "4,y,abc\n"
            "5,z,50\n");
  auto schema = arrow::schema({arrow::field("id", arrow::int64()),
                               arrow::field("note", arrow::utf8()),
                               arrow::field("qty", arrow::int64())});
  BadRowHandler handler(OnError::kFail);
  CSV_ASSERT_OK_AND_ASSIGN(auto reader,
                           CsvReader::Open(path, schema, {}, CsvOptions{}, &handler));
  auto failed = reader->Next();
  ASSERT_FALSE(failed.ok());
  const std::string message = failed.status().message();
  EXPECT_NE(message.find("file.csv:7"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot parse 'abc' as int64"), std::string::npos) << message;
  EXPECT_NE(message.find("'qty'"), std::string::npos) << message;
  // The error is sticky.
  auto again = reader->Next();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), message);

  // A field count error names its line too, in the middle of a later batch.
  std::string text = "a,b\n";
  for (int i = 0; i < 100; ++i) text += i == 57 ? "1\n" : "1,2\n";
  WriteFile(path, text);
  auto ints = arrow::schema(
      {arrow::field("a", arrow::int32()), arrow::field("b", arrow::int32())});
  CsvOptions options;
  options.batch_rows = 10;
  CSV_ASSERT_OK_AND_ASSIGN(reader, CsvReader::Open(path, ints, {}, options, &handler));
  Status status;
  int good_batches = 0;
  for (;;) {
    auto batch = reader->Next();
    if (!batch.ok()) {
      status = batch.status();
      break;
    }
    ASSERT_NE(*batch, nullptr);
    ++good_batches;
  }
  EXPECT_EQ(good_batches, 5);
  EXPECT_NE(status.message().find("file.csv:59: expected 2 fields, found 1"),
            std::string::npos)
      << status.ToString();
}

TEST(CsvReaderTest, RejectRequiresPath) {
  TempDir dir;
  std::string path = dir.Join("file.csv");
  WriteFile(path, "a\nx\n");
  auto schema = arrow::schema({arrow::field("a", arrow::int32())});
  BadRowHandler handler(OnError::kReject);
  EXPECT_FALSE(ReadCsv(path, schema, CsvOptions{}, &handler).ok());
}

// ---------------------------------------------------------------------------
// Batches and blocks

TEST(CsvReaderTest, BatchSizesAndTinyBlocks) {
  TempDir dir;
  std::string text = "a,b\n";
  for (int i = 0; i < 1000; ++i) {
    text += i % 10 == 3 ? fmt::format("{},\"q\"\"{}\n\"\r\n", i, i)
                        : fmt::format("{},v{}\n", i, i);
  }
  auto schema = arrow::schema(
      {arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8())});
  std::shared_ptr<arrow::Table> reference;
  for (int64_t block : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{7}, int64_t{64},
                        int64_t{4096}, int64_t{1} << 22}) {
    CsvOptions options;
    options.block_bytes = block;
    options.batch_rows = 300;
    CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadText(dir, text, options, schema));
    EXPECT_EQ(r.batch_sizes, (std::vector<int64_t>{300, 300, 300, 100})) << block;
    if (reference == nullptr) {
      reference = r.table;
      auto b = std::static_pointer_cast<arrow::StringArray>(r.table->column(1)->chunk(0));
      EXPECT_EQ(b->GetView(3), "q\"3\n");
      EXPECT_EQ(b->GetView(4), "v4");
    } else {
      EXPECT_TRUE(r.table->Equals(*reference)) << block;
    }
  }
}

// Random bytes from a small alphabet of CSV syntax: reading with any block size gives the
// same rows and the same bad-row reports as reading in one block. (The rejects file is
// compared on some rounds only: publishing it fsyncs.)
TEST(CsvReaderTest, BlockBoundariesDoNotMatterFuzz) {
  TempDir dir;
  std::mt19937 rng(12345);
  const std::string alphabet = "ab,,\"\"\n\n\r\\1 ";
  auto schema =
      arrow::schema({arrow::field("x", arrow::utf8()), arrow::field("y", arrow::utf8())});
  for (int round = 0; round < 300; ++round) {
    std::string text;
    int length = static_cast<int>(rng() % 200);
    for (int i = 0; i < length; ++i) text += alphabet[rng() % alphabet.size()];
    CsvOptions base;
    base.header = false;
    base.escape = round % 2 == 0 ? '\0' : '\\';
    std::string path = dir.Join("fuzz.csv");
    WriteFile(path, text);
    const bool check_rejects = round % 25 == 0;
    std::string reference_rejects;
    std::shared_ptr<arrow::Table> reference;
    int64_t reference_rejected = 0;
    for (int64_t block :
         {int64_t{1} << 20, int64_t{1}, int64_t{2}, int64_t{5}, int64_t{16}}) {
      CsvOptions options = base;
      options.block_bytes = block;
      options.batch_rows = 1 + round % 4;
      std::string rejects = dir.Join(fmt::format("rejects-{}.jsonl", block));
      BadRowHandler handler(check_rejects ? OnError::kReject : OnError::kSkip, rejects);
      CSV_ASSERT_OK_AND_ASSIGN(ReadResult r, ReadCsv(path, schema, options, &handler));
      CSV_ASSERT_OK(handler.Close());
      std::string rejected = check_rejects ? ReadFile(rejects) : "";
      if (reference == nullptr) {
        reference = r.table;
        reference_rejects = rejected;
        reference_rejected = r.rows_rejected;
      } else {
        EXPECT_TRUE(r.table->Equals(*reference))
            << "round " << round << " block " << block;
        EXPECT_EQ(r.rows_rejected, reference_rejected)
            << "round " << round << " block " << block;
        EXPECT_EQ(rejected, reference_rejects) << "round " << round << " block " << block;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Randomized round trip, checked against the generated table and against Arrow's CSV
// reader (the reference implementation).

std::string RandomString(std::mt19937* rng) {
  static const std::vector<std::string> kPieces = {
      "a", "b", "Z",    "0", "7",    " ",    ",",  "\"", "\n", "\r\n", "\t",
      "|", "é", "日本", "😀", "NULL", "x\"y", "''", "\\", ";",  "ß"};
  int n = static_cast<int>((*rng)() % 8);
  std::string s;
  for (int i = 0; i < n; ++i) s += kPieces[(*rng)() % kPieces.size()];
  return s;
}

std::string QuoteIfNeeded(const std::string& s, bool always) {
  if (!always && !s.empty() && s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

struct RandomTable {
  std::shared_ptr<arrow::Table> table;
  std::string csv;
};

RandomTable MakeRandomTable(uint32_t seed, int rows) {
  std::mt19937 rng(seed);
  auto schema = arrow::schema({
      arrow::field("id", arrow::int64()),
      arrow::field("text", arrow::utf8()),
      arrow::field("value", arrow::float64()),
      arrow::field("small", arrow::int16()),
      arrow::field("flag", arrow::boolean()),
      arrow::field("note", arrow::utf8()),
      arrow::field("day", arrow::date32()),
      arrow::field("at", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("amount", arrow::decimal128(12, 3)),
  });
  arrow::Int64Builder id;
  arrow::StringBuilder text;
  arrow::DoubleBuilder value;
  arrow::Int16Builder small;
  arrow::BooleanBuilder flag;
  arrow::StringBuilder note;
  arrow::Date32Builder day;
  arrow::TimestampBuilder at(arrow::timestamp(arrow::TimeUnit::MICRO),
                             arrow::default_memory_pool());
  arrow::Decimal128Builder amount(arrow::decimal128(12, 3));
  std::string csv = "id,text,value,small,flag,note,day,at,amount\n";
  const std::string newline = seed % 2 == 0 ? "\n" : "\r\n";
  auto null = [&]() { return rng() % 10 == 0; };
  for (int r = 0; r < rows; ++r) {
    std::vector<std::string> cells;
    // id
    if (null()) {
      (void)id.AppendNull();
      cells.push_back("");
    } else {
      int64_t v = static_cast<int64_t>((static_cast<uint64_t>(rng()) << 32) | rng());
      if (rng() % 20 == 0)
        v = rng() % 2 ? std::numeric_limits<int64_t>::min()
                      : std::numeric_limits<int64_t>::max();
      (void)id.Append(v);
      cells.push_back(std::to_string(v));
    }
    // text: never null, often empty, quoted when needed (or at random)
    if (null()) {
      (void)text.AppendNull();
      cells.push_back("");
    } else {
      std::string s = RandomString(&rng);
      (void)text.Append(s);
      cells.push_back(QuoteIfNeeded(s, rng() % 3 == 0));
    }
    // value
    if (null()) {
      (void)value.AppendNull();
      cells.push_back("");
    } else {
      double v;
      switch (rng() % 4) {
        case 0:
          v = std::ldexp(static_cast<double>(rng()), static_cast<int>(rng() % 200) - 100);
          break;
        case 1:
          v = -static_cast<double>(rng() % 100000) / 100.0;
          break;
        case 2:
          v = static_cast<double>(rng() % 1000);
          break;
        default:
          v = rng() % 2 ? std::numeric_limits<double>::infinity() : 1e-300;
          break;
      }
      (void)value.Append(v);
      cells.push_back(std::isinf(v) ? "inf"
                                    : fmt::format("{}", v));  // shortest round-trip
    }
    // small
    if (null()) {
      (void)small.AppendNull();
      cells.push_back("");
    } else {
      int16_t v = static_cast<int16_t>(rng());
      (void)small.Append(v);
      cells.push_back(rng() % 5 == 0 ? fmt::format("\"{}\"", v) : std::to_string(v));
    }
    // flag
    if (null()) {
      (void)flag.AppendNull();
      cells.push_back("");
    } else {
      bool v = rng() % 2;
      (void)flag.Append(v);
      cells.push_back(v ? "true" : "false");
    }
    // note: mostly plain words
    if (null()) {
      (void)note.AppendNull();
      cells.push_back("");
    } else {
      std::string s = "word" + std::to_string(rng() % 1000);
      (void)note.Append(s);
      cells.push_back(s);
    }
    // day, at
    int64_t days = static_cast<int64_t>(rng() % 80000) - 20000;  // 1915 .. 2189
    if (null()) {
      (void)day.AppendNull();
      (void)at.AppendNull();
      cells.push_back("");
      cells.push_back("");
    } else {
      (void)day.Append(static_cast<int32_t>(days));
      int64_t micros = days * 86400000000LL +
                       static_cast<int64_t>(rng() % 86400000) * 1000 + rng() % 1000;
      (void)at.Append(micros);
      // Format with the C library from the values (an independent path from the parser).
      time_t seconds = static_cast<time_t>(days * 86400);
      std::tm tm{};
      gmtime_r(&seconds, &tm);
      char date[32];
      std::strftime(date, sizeof(date), "%Y-%m-%d", &tm);
      cells.push_back(date);
      int64_t floor_seconds = micros / 1000000 - (micros % 1000000 < 0 ? 1 : 0);
      int64_t frac = micros - floor_seconds * 1000000;
      time_t at_seconds = static_cast<time_t>(floor_seconds);
      gmtime_r(&at_seconds, &tm);
      char stamp[64];
      std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
      cells.push_back(fmt::format("{}.{:06d}", stamp, frac));
    }
    // amount: decimal(12, 3)
    if (null()) {
      (void)amount.AppendNull();
      cells.push_back("");
    } else {
      int64_t unscaled = static_cast<int64_t>(rng() % 2000000000) - 1000000000;
      (void)amount.Append(arrow::Decimal128(unscaled));
      cells.push_back(arrow::Decimal128(unscaled).ToString(3));
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) csv += ',';
      csv += cells[c];
    }
    csv += newline;
  }
  std::vector<std::shared_ptr<arrow::Array>> arrays(9);
  (void)id.Finish(&arrays[0]);
  (void)text.Finish(&arrays[1]);
  (void)value.Finish(&arrays[2]);
  (void)small.Finish(&arrays[3]);
  (void)flag.Finish(&arrays[4]);
  (void)note.Finish(&arrays[5]);
  (void)day.Finish(&arrays[6]);
  (void)at.Finish(&arrays[7]);
  (void)amount.Finish(&arrays[8]);
  return RandomTable{arrow::Table::Make(schema, arrays), csv};
}

Result<std::shared_ptr<arrow::Table>> ReadWithArrow(
    const std::string& path, const std::shared_ptr<arrow::Schema>& schema) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
  auto read_options = arrow::csv::ReadOptions::Defaults();
  read_options.use_threads = false;
  auto parse_options = arrow::csv::ParseOptions::Defaults();
  parse_options.newlines_in_values = true;
  auto convert_options = arrow::csv::ConvertOptions::Defaults();
  convert_options.null_values = {""};
  convert_options.strings_can_be_null = true;
  convert_options.quoted_strings_can_be_null = false;
  for (const auto& field : schema->fields())
    convert_options.column_types[field->name()] = field->type();
  ARROW_ASSIGN_OR_RAISE(auto reader, arrow::csv::TableReader::Make(
                                         arrow::io::default_io_context(), file,
                                         read_options, parse_options, convert_options));
  return reader->Read();
}

TEST(CsvReaderTest, RandomRoundTrip) {
  TempDir dir;
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    RandomTable random = MakeRandomTable(seed, 3000);
    std::string path = dir.Join(fmt::format("random-{}.csv", seed));
    WriteFile(path, random.csv);
    const auto equal = arrow::EqualOptions::Defaults().nans_equal(true);

    // Inference finds the types of the generated columns (all present in the sample).
    CSV_ASSERT_OK_AND_ASSIGN(auto inferred, InferSchema(path, CsvOptions{}));
    EXPECT_TRUE(inferred->field(0)->type()->Equals(arrow::int64()));
    EXPECT_TRUE(inferred->field(2)->type()->Equals(arrow::float64()));
    EXPECT_TRUE(inferred->field(4)->type()->Equals(arrow::boolean()));
    EXPECT_TRUE(inferred->field(6)->type()->Equals(arrow::date32()));
    EXPECT_TRUE(
        inferred->field(7)->type()->Equals(arrow::timestamp(arrow::TimeUnit::MICRO)));

    for (int64_t block : {int64_t{1} << 22, int64_t{4096}, int64_t{37}}) {
      CsvOptions options;
      options.block_bytes = block;
      options.batch_rows = 1 + seed * 250;
      BadRowHandler handler(OnError::kFail);
      CSV_ASSERT_OK_AND_ASSIGN(ReadResult r,
                               ReadCsv(path, random.table->schema(), options, &handler));
      EXPECT_EQ(r.rows_rejected, 0);
      ASSERT_EQ(r.table->num_rows(), 3000);
      for (int c = 0; c < random.table->num_columns(); ++c) {
        EXPECT_TRUE(r.table->column(c)->Equals(*random.table->column(c), equal))
            << "seed " << seed << " block " << block << " column "
            << random.table->field(c)->name();
      }
    }
    CSV_ASSERT_OK_AND_ASSIGN(auto arrow_table,
                             ReadWithArrow(path, random.table->schema()));
    EXPECT_TRUE(arrow_table->Equals(*random.table))
        << "Arrow's reader disagrees with the generator";
  }
}

// ---------------------------------------------------------------------------
// Throughput (run explicitly:
//   sluice_connector_csv_test --gtest_also_run_disabled_tests
//   --gtest_filter='*Throughput*'
// SLUICE_CSV_BENCH_ROWS sets the row count, default 2,000,000 ~ 130 MB).

TEST(CsvReaderTest, DISABLED_Throughput) {
  TempDir dir;
  int64_t rows = 2000000;
  if (const char* env = std::getenv("SLUICE_CSV_BENCH_ROWS")) rows = std::atoll(env);
  std::mt19937 rng(7);
  std::string path = dir.Join("bench.csv");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::string buffer = "id,price,qty,name,category,score\n";
    static const char* kCategories[] = {"books", "garden", "toys", "electronics", "food"};
    for (int64_t i = 0; i < rows; ++i) {
      uint32_t customer = rng() % 100000;
      std::string name = i % 7 == 0 ? fmt::format("\"Smith, {}\"", customer)
                                    : fmt::format("customer {}", customer);
      buffer +=
          fmt::format("{},{:.2f},{},{},{},{}\n", 1000000 + i,
                      static_cast<double>(rng() % 1000000) / 100.0, rng() % 100, name,
                      kCategories[rng() % 5], static_cast<double>(rng()) / 4294967296.0);
      if (buffer.size() > (1 << 20)) {
        std::fwrite(buffer.data(), 1, buffer.size(), f);
        buffer.clear();
      }
    }
    std::fwrite(buffer.data(), 1, buffer.size(), f);
    std::fclose(f);
  }
  CSV_ASSERT_OK_AND_ASSIGN(int64_t size, FileSize(path));
  CSV_ASSERT_OK_AND_ASSIGN(auto schema, InferSchema(path, CsvOptions{}));
  // Warm the page cache.
  (void)ReadFile(path).size();
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    BadRowHandler handler(OnError::kFail);
    auto start = std::chrono::steady_clock::now();
    CSV_ASSERT_OK_AND_ASSIGN(auto reader,
                             CsvReader::Open(path, schema, {}, CsvOptions{}, &handler));
    int64_t n = 0;
    for (;;) {
      CSV_ASSERT_OK_AND_ASSIGN(auto batch, reader->Next());
      if (batch == nullptr) break;
      n += batch->num_rows();
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(n, rows);
    best = std::min(best, seconds);
  }
  double arrow_best = 1e9;
  for (int run = 0; run < 2; ++run) {
    auto start = std::chrono::steady_clock::now();
    CSV_ASSERT_OK_AND_ASSIGN(auto table, ReadWithArrow(path, schema));
    arrow_best = std::min(
        arrow_best,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ASSERT_EQ(table->num_rows(), rows);
  }
  std::printf("schema: %s\n", schema->ToString().c_str());
  std::printf("sluice csv: %.1f MB in %.3f s = %.0f MB/s (single thread)\n", size / 1e6,
              best, size / 1e6 / best);
  std::printf("arrow csv (use_threads=false): %.3f s = %.0f MB/s\n", arrow_best,
              size / 1e6 / arrow_best);
}

}  // namespace
}  // namespace sluice::csv
