#include "sluice/connector/parquet/column_chunk_reader.h"

#include <arrow/api.h>
#include <arrow/array/concatenate.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <random>

#include "sluice/testing/assert_ok.h"

namespace sluice::connector {
namespace {

// Random values of `type`, `null_fraction` of them null: wide ranges, the extremes,
// and few distinct values when `few_distinct` (so dictionaries stay small).
std::shared_ptr<arrow::Array> RandomArray(const std::shared_ptr<arrow::DataType>& type,
                                          int64_t n, double null_fraction,
                                          bool few_distinct, std::mt19937_64& rng) {
  std::unique_ptr<arrow::ArrayBuilder> builder;
  auto dict_type = type->id() == arrow::Type::DICTIONARY
                       ? static_cast<const arrow::DictionaryType&>(*type).value_type()
                       : type;
  EXPECT_TRUE(arrow::MakeBuilder(arrow::default_memory_pool(), dict_type, &builder).ok());
  std::bernoulli_distribution is_null(null_fraction);
  auto pick = [&](uint64_t range) -> uint64_t {
    return few_distinct ? rng() % std::min<uint64_t>(range, 17) : rng() % range;
  };
  for (int64_t i = 0; i < n; ++i) {
    if (is_null(rng)) {
      EXPECT_TRUE(builder->AppendNull().ok());
      continue;
    }
    uint64_t r = few_distinct ? pick(1000) * 0x9e3779b97f4a7c15ull : rng();
    arrow::Status st;
    switch (dict_type->id()) {
      case arrow::Type::INT8:
        st = static_cast<arrow::Int8Builder&>(*builder).Append(static_cast<int8_t>(r));
        break;
      case arrow::Type::UINT8:
        st = static_cast<arrow::UInt8Builder&>(*builder).Append(static_cast<uint8_t>(r));
        break;
      case arrow::Type::INT16:
        st = static_cast<arrow::Int16Builder&>(*builder).Append(static_cast<int16_t>(r));
        break;
      case arrow::Type::UINT16:
        st =
            static_cast<arrow::UInt16Builder&>(*builder).Append(static_cast<uint16_t>(r));
        break;
      case arrow::Type::INT32:
        st = static_cast<arrow::Int32Builder&>(*builder).Append(static_cast<int32_t>(r));
        break;
      case arrow::Type::UINT32:
        st =
            static_cast<arrow::UInt32Builder&>(*builder).Append(static_cast<uint32_t>(r));
        break;
      case arrow::Type::INT64:
        st = static_cast<arrow::Int64Builder&>(*builder).Append(static_cast<int64_t>(r));
        break;
      case arrow::Type::UINT64:
        st = static_cast<arrow::UInt64Builder&>(*builder).Append(
            static_cast<unsigned long>(r));
        break;
      case arrow::Type::FLOAT:
        st = static_cast<arrow::FloatBuilder&>(*builder).Append(
            static_cast<float>(static_cast<int64_t>(r)) / 7.0f);
        break;
      case arrow::Type::DOUBLE:
        st = static_cast<arrow::DoubleBuilder&>(*builder).Append(
            static_cast<double>(static_cast<int64_t>(r)) / 3.0);
        break;
      case arrow::Type::BOOL:
        st = static_cast<arrow::BooleanBuilder&>(*builder).Append((r & 1) != 0);
        break;
      case arrow::Type::DATE32:
        st = static_cast<arrow::Date32Builder&>(*builder).Append(
            static_cast<int32_t>(r % 200000) - 100000);
        break;
      case arrow::Type::TIME32:
        st = static_cast<arrow::Time32Builder&>(*builder).Append(
            static_cast<int32_t>(r % 86400000));
        break;
      case arrow::Type::TIME64:
        st = static_cast<arrow::Time64Builder&>(*builder).Append(
            static_cast<int64_t>(r % 86400000000ull));
        break;
      case arrow::Type::TIMESTAMP:
        st = static_cast<arrow::TimestampBuilder&>(*builder).Append(
            static_cast<int64_t>(r >> 2) - (int64_t{1} << 60));
        break;
      case arrow::Type::DECIMAL128: {
        const auto& d = static_cast<const arrow::Decimal128Type&>(*dict_type);
        // Up to the type's precision, both signs.
        arrow::Decimal128 v(static_cast<int64_t>(r >> 1));
        if (d.precision() > 18)
          v = v * arrow::Decimal128(static_cast<int64_t>(rng() % 1000000000));
        auto bound = arrow::Decimal128::GetMaxValue(d.precision());
        v = v % bound;
        if (rng() % 2) v = -v;
        if (rng() % 50 == 0) v = rng() % 2 ? bound - 1 : -(bound - 1);
        st = static_cast<arrow::Decimal128Builder&>(*builder).Append(v);
        break;
      }
      case arrow::Type::STRING:
      case arrow::Type::BINARY:
      case arrow::Type::LARGE_STRING:
      case arrow::Type::LARGE_BINARY: {
        size_t len = few_distinct ? r % 7 : rng() % (rng() % 10 == 0 ? 300 : 12);
        std::string s(len, 'a');
        for (size_t j = 0; j < len; ++j)
          s[j] = static_cast<char>('a' + (r >> (j % 60)) % 26);
        if (dict_type->id() == arrow::Type::LARGE_STRING ||
            dict_type->id() == arrow::Type::LARGE_BINARY) {
          st = static_cast<arrow::LargeBinaryBuilder&>(*builder).Append(s);
        } else {
          st = static_cast<arrow::BinaryBuilder&>(*builder).Append(s);
        }
        break;
      }
      default:
        ADD_FAILURE() << "no generator for " << type->ToString();
        return nullptr;
    }
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  std::shared_ptr<arrow::Array> out;
  EXPECT_TRUE(builder->Finish(&out).ok());
  if (type->id() == arrow::Type::DICTIONARY) {
    out = arrow::compute::DictionaryEncode(out).ValueOrDie().make_array();
  }
  return out;
}

std::vector<std::shared_ptr<arrow::DataType>> Types() {
  return {arrow::int8(),
          arrow::uint8(),
          arrow::int16(),
          arrow::uint16(),
          arrow::int32(),
          arrow::uint32(),
          arrow::int64(),
          arrow::uint64(),
          arrow::float32(),
          arrow::float64(),
          arrow::boolean(),
          arrow::date32(),
          arrow::time32(arrow::TimeUnit::MILLI),
          arrow::time64(arrow::TimeUnit::MICRO),
          arrow::timestamp(arrow::TimeUnit::MILLI),
          arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"),
          arrow::timestamp(arrow::TimeUnit::NANO),
          arrow::decimal128(9, 2),
          arrow::decimal128(18, 4),
          arrow::decimal128(30, 5),
          arrow::decimal128(38, 0),
          arrow::utf8(),
          arrow::binary(),
          arrow::large_utf8(),
          arrow::dictionary(arrow::int32(), arrow::utf8())};
}

struct Written {
  std::shared_ptr<arrow::Buffer> file;
  std::shared_ptr<arrow::Table> table;
};

// A random table of every type written with the given properties.
Written Write(std::mt19937_64& rng, int64_t rows,
              parquet::WriterProperties::Builder& props, bool store_decimal_as_integer) {
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  const double null_fractions[] = {0.0, 0.0, 0.1, 0.5, 0.97, 1.0};
  int i = 0;
  for (const auto& t : Types()) {
    for (bool few : {false, true}) {
      double nulls = null_fractions[rng() % 6];
      bool nullable = nulls > 0 || rng() % 2;
      fields.push_back(arrow::field("c" + std::to_string(i++), t, nullable));
      columns.push_back(RandomArray(t, rows, nulls, few, rng));
    }
  }
  auto table = arrow::Table::Make(arrow::schema(fields), columns, rows);
  if (store_decimal_as_integer) props.enable_store_decimal_as_integer();
  auto sink = arrow::io::BufferOutputStream::Create().ValueOrDie();
  auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  EXPECT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), sink,
                                         static_cast<int64_t>(rng() % 3000) + 200,
                                         props.build(), arrow_props)
                  .ok());
  return {sink->Finish().ValueOrDie(), table};
}

// Reads every chunk of `w` with ColumnChunkReader in random batch sizes and compares it
// with Arrow's reader. Returns how many chunks the fast reader took.
int CompareAllChunks(const Written& w, std::mt19937_64& rng, int* total) {
  auto input = std::make_shared<arrow::io::BufferReader>(w.file);
  std::unique_ptr<parquet::arrow::FileReader> reader;
  EXPECT_TRUE(
      parquet::arrow::OpenFile(input, arrow::default_memory_pool()).Value(&reader).ok());
  std::shared_ptr<arrow::Schema> schema;
  EXPECT_TRUE(reader->GetSchema(&schema).ok());
  auto meta = reader->parquet_reader()->metadata();
  int taken = 0;
  for (int rg = 0; rg < meta->num_row_groups(); ++rg) {
    auto rg_meta = meta->RowGroup(rg);
    for (int c = 0; c < meta->num_columns(); ++c) {
      ++*total;
      auto chunk_meta = rg_meta->ColumnChunk(c);
      const auto* descr = meta->schema()->Column(c);
      auto type = schema->field(c)->type();
      std::shared_ptr<arrow::ChunkedArray> expected;
      EXPECT_TRUE(reader->RowGroup(rg)->Column(c)->Read(&expected).ok());
      if (!ColumnChunkReader::Supports(*chunk_meta, *descr, *type)) continue;
      auto [offset, length] = ColumnChunkReader::ByteRange(*chunk_meta);
      auto bytes =
          arrow::AllocateBuffer(length + ColumnChunkReader::kPadding).ValueOrDie();
      std::memcpy(bytes->mutable_data(), w.file->data() + offset,
                  static_cast<size_t>(length));
      std::memset(bytes->mutable_data() + length, 0xEE, ColumnChunkReader::kPadding);
      auto made = ColumnChunkReader::Make(std::move(bytes), *chunk_meta, *descr, type,
                                          arrow::default_memory_pool(), "test");
      if (made.status().IsNotImplemented()) continue;
      EXPECT_TRUE(made.ok()) << made.status().ToString() << " " << type->ToString();
      if (!made.ok()) continue;
      ++taken;
      auto chunk_reader = std::move(made).ValueOrDie();
      // Batches of random sizes; some read whole (Next), some only at random rows
      // (NextSelected: none, a few, most or all of them), which the expected column
      // then takes too.
      if (type->id() == arrow::Type::DICTIONARY) {
        auto value_type = static_cast<const arrow::DictionaryType&>(*type).value_type();
        expected =
            arrow::compute::Cast(expected, value_type).ValueOrDie().chunked_array();
      }
      auto whole = arrow::Concatenate(expected->chunks()).ValueOrDie();
      arrow::ArrayVector got, want;
      int64_t rows = 0;
      while (rows < rg_meta->num_rows()) {
        int64_t n = 1 + static_cast<int64_t>(rng() % (rng() % 4 == 0 ? 5000 : 700));
        const int64_t len = std::min(n, rg_meta->num_rows() - rows);
        arrow::Result<std::shared_ptr<arrow::Array>> next;
        if (rng() % 3 == 0) {
          next = chunk_reader->Next(n);
          want.push_back(whole->Slice(rows, len));
        } else {
          const int density[] = {0, 2, 50, 98, 100};
          const int d = density[rng() % 5];
          std::vector<int32_t> picked;
          for (int64_t i = 0; i < len; ++i) {
            if (static_cast<int>(rng() % 100) < d)
              picked.push_back(static_cast<int32_t>(i));
          }
          next = chunk_reader->NextSelected(n, picked.data(),
                                            static_cast<int64_t>(picked.size()));
          auto indices = arrow::Int32Builder();
          EXPECT_TRUE(indices.AppendValues(picked).ok());
          auto taken =
              arrow::compute::Take(whole->Slice(rows, len), indices.Finish().ValueOrDie())
                  .ValueOrDie();
          want.push_back(taken.make_array());
        }
        EXPECT_TRUE(next.ok()) << next.status().ToString();
        if (!next.ok()) break;
        EXPECT_TRUE((*next)->ValidateFull().ok()) << (*next)->ValidateFull().ToString();
        EXPECT_EQ((*next)->length(), want.back()->length());
        rows += len;
        got.push_back(*next);
      }
      auto last = chunk_reader->Next(100);
      EXPECT_TRUE(last.ok() && (*last)->length() == 0) << "rows past the row group";
      EXPECT_EQ(rows, rg_meta->num_rows());
      if (rows != rg_meta->num_rows()) continue;
      expected = std::make_shared<arrow::ChunkedArray>(want, whole->type());
      auto actual = std::make_shared<arrow::ChunkedArray>(got, type);
      if (type->id() == arrow::Type::DICTIONARY) {
        auto value_type = static_cast<const arrow::DictionaryType&>(*type).value_type();
        actual = arrow::compute::Cast(actual, value_type).ValueOrDie().chunked_array();
      }
      EXPECT_TRUE(actual->Equals(*expected))
          << "row group " << rg << " column " << c << " " << type->ToString();
    }
  }
  return taken;
}

TEST(ColumnChunkReader, MatchesArrowsReaderOnRandomFiles) {
  std::mt19937_64 rng(20261202);
  const arrow::Compression::type codecs[] = {
      arrow::Compression::UNCOMPRESSED, arrow::Compression::SNAPPY,
      arrow::Compression::ZSTD, arrow::Compression::GZIP, arrow::Compression::LZ4};
  int taken = 0, total = 0;
  for (int iter = 0; iter < 12; ++iter) {
    parquet::WriterProperties::Builder props;
    props.compression(codecs[iter % 5]);
    if (iter % 3 == 0) props.disable_dictionary();
    if (iter % 4 == 1) props.dictionary_pagesize_limit(256);  // falls back to PLAIN
    props.data_page_version(iter % 2 ? parquet::ParquetDataPageVersion::V2
                                     : parquet::ParquetDataPageVersion::V1);
    if (iter % 3 == 2) props.data_pagesize(512);  // many pages per chunk
    props.write_batch_size(1 + static_cast<int64_t>(rng() % 2000));
    auto w = Write(rng, 1 + static_cast<int64_t>(rng() % 6000), props, iter % 2 == 0);
    taken += CompareAllChunks(w, rng, &total);
  }
  ::testing::Test::RecordProperty("chunks_taken", taken);
  ::testing::Test::RecordProperty("chunks", total);
  // The fast reader must take most chunks for the test to mean anything.
  EXPECT_GT(taken, total * 8 / 10) << taken << " of " << total;
}

// Pages of exactly 100 rows (a page per write batch): rows asked for at the first and
// last row of a page, next to pages passed over unread, in batches that end inside
// pages and at their ends.
TEST(ColumnChunkReader, SelectedRowsAtPageEdges) {
  for (bool dictionary : {false, true}) {
    arrow::Int64Builder b;
    for (int64_t i = 0; i < 10000; ++i) ASSERT_TRUE(b.Append(i * 7 % 1000).ok());
    auto values = b.Finish().ValueOrDie();
    auto table = arrow::Table::Make(
        arrow::schema({arrow::field("v", arrow::int64(), false)}), {values});
    parquet::WriterProperties::Builder props;
    props.compression(arrow::Compression::SNAPPY)
        ->data_pagesize(1)
        ->write_batch_size(100);
    if (!dictionary) props.disable_dictionary();
    auto sink = arrow::io::BufferOutputStream::Create().ValueOrDie();
    ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), sink,
                                           10000, props.build())
                    .ok());
    auto file = sink->Finish().ValueOrDie();
    auto input = std::make_shared<arrow::io::BufferReader>(file);
    std::unique_ptr<parquet::arrow::FileReader> reader;
    ASSERT_TRUE(parquet::arrow::OpenFile(input, arrow::default_memory_pool())
                    .Value(&reader)
                    .ok());
    auto meta = reader->parquet_reader()->metadata();
    auto chunk_meta = meta->RowGroup(0)->ColumnChunk(0);
    const std::vector<std::vector<int32_t>> picks = {
        {99}, {100}, {0}, {199, 200}, {5099}, {9999}, {}, {99, 100, 5000, 9900}};
    for (const int64_t batch : {10000, 1000, 250, 100}) {
      for (const auto& pick : picks) {
        auto [offset, length] = ColumnChunkReader::ByteRange(*chunk_meta);
        auto bytes =
            arrow::AllocateBuffer(length + ColumnChunkReader::kPadding).ValueOrDie();
        std::memcpy(bytes->mutable_data(), file->data() + offset,
                    static_cast<size_t>(length));
        SLUICE_ASSERT_OK_AND_ASSIGN(
            auto r, ColumnChunkReader::Make(std::move(bytes), *chunk_meta,
                                            *meta->schema()->Column(0), arrow::int64(),
                                            arrow::default_memory_pool(), "test"));
        for (int64_t start = 0; start < 10000; start += batch) {
          std::vector<int32_t> rows;
          for (int32_t p : pick) {
            if (p >= start && p < start + batch)
              rows.push_back(p - static_cast<int32_t>(start));
          }
          SLUICE_ASSERT_OK_AND_ASSIGN(
              auto got,
              r->NextSelected(batch, rows.data(), static_cast<int64_t>(rows.size())));
          ASSERT_EQ(got->length(), static_cast<int64_t>(rows.size()));
          const auto& g = static_cast<const arrow::Int64Array&>(*got);
          for (size_t j = 0; j < rows.size(); ++j) {
            ASSERT_EQ(g.Value(static_cast<int64_t>(j)), (start + rows[j]) * 7 % 1000)
                << "dictionary " << dictionary << " batch " << batch << " row "
                << start + rows[j];
          }
        }
        SLUICE_ASSERT_OK_AND_ASSIGN(auto end, r->Next(10));
        EXPECT_EQ(end->length(), 0);
      }
    }
  }
}

TEST(ColumnChunkReader, CorruptChunksFailCleanly) {
  std::mt19937_64 rng(5);
  parquet::WriterProperties::Builder props;
  props.compression(arrow::Compression::SNAPPY);
  props.data_pagesize(1024);
  auto w = Write(rng, 3000, props, true);
  auto input = std::make_shared<arrow::io::BufferReader>(w.file);
  std::unique_ptr<parquet::arrow::FileReader> reader;
  ASSERT_TRUE(
      parquet::arrow::OpenFile(input, arrow::default_memory_pool()).Value(&reader).ok());
  std::shared_ptr<arrow::Schema> schema;
  ASSERT_TRUE(reader->GetSchema(&schema).ok());
  auto meta = reader->parquet_reader()->metadata();
  int failed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    int rg = static_cast<int>(rng() % meta->num_row_groups());
    int c = static_cast<int>(rng() % meta->num_columns());
    auto chunk_meta = meta->RowGroup(rg)->ColumnChunk(c);
    const auto* descr = meta->schema()->Column(c);
    auto type = schema->field(c)->type();
    if (!ColumnChunkReader::Supports(*chunk_meta, *descr, *type)) continue;
    auto [offset, length] = ColumnChunkReader::ByteRange(*chunk_meta);
    auto bytes = arrow::AllocateBuffer(length + ColumnChunkReader::kPadding).ValueOrDie();
    std::memcpy(bytes->mutable_data(), w.file->data() + offset,
                static_cast<size_t>(length));
    for (int f = 0; f < 1 + static_cast<int>(rng() % 3); ++f) {
      bytes->mutable_data()[rng() % length] = static_cast<uint8_t>(rng());
    }
    auto made = ColumnChunkReader::Make(std::move(bytes), *chunk_meta, *descr, type,
                                        arrow::default_memory_pool(), "test");
    if (!made.ok()) {
      ++failed;
      continue;
    }
    auto r = std::move(made).ValueOrDie();
    while (true) {
      auto next = r->Next(1 + static_cast<int64_t>(rng() % 1000));
      if (!next.ok()) {
        ++failed;
        EXPECT_NE(next.status().message().find("test"), std::string::npos)
            << next.status().ToString();
        break;
      }
      if ((*next)->length() == 0) break;
      // Whatever it decodes must be a valid array (garbage values, but in bounds).
      EXPECT_TRUE((*next)->Validate().ok());
    }
  }
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace sluice::connector
