#include "sluice/connector/parquet/parquet_table.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "sluice/testing/assert_ok.h"

namespace sluice::connector {
namespace {

namespace fs = std::filesystem;

class ParquetTableStats : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-parquet-table-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 30,000 rows in row groups of 10,000: `few` cycles through 150 strings, `names`
  // is unique per row, `id` counts from 1.
  std::string Write(const std::string& name, int64_t dictionary_page_limit) {
    arrow::StringBuilder few, names;
    arrow::Int64Builder id;
    for (int64_t i = 0; i < 30000; ++i) {
      EXPECT_TRUE(few.Append("type " + std::to_string(i * 7 % 150)).ok());
      EXPECT_TRUE(names.Append("customer#" + std::to_string(i)).ok());
      EXPECT_TRUE(id.Append(i + 1).ok());
    }
    auto table =
        arrow::Table::Make(arrow::schema({arrow::field("few", arrow::utf8()),
                                          arrow::field("names", arrow::utf8()),
                                          arrow::field("id", arrow::int64())}),
                           {few.Finish().ValueOrDie(), names.Finish().ValueOrDie(),
                            id.Finish().ValueOrDie()});
    parquet::WriterProperties::Builder props;
    props.dictionary_pagesize_limit(dictionary_page_limit);
    const std::string path = (dir_ / name).string();
    auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
    EXPECT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out,
                                           10000, props.build())
                    .ok());
    EXPECT_TRUE(out->Close().ok());
    return path;
  }

  fs::path dir_;
};

TEST_F(ParquetTableStats, StringDistinctCountsFromDictionaries) {
  SLUICE_ASSERT_OK_AND_ASSIGN(auto t, ParquetTable::Open(Write("a.parquet", 1 << 20)));
  EXPECT_EQ(t->EstimatedDistinct(0), 150);
  // Unique names: unknown (row groups may share values or not; never a key claimed
  // from dictionaries).
  EXPECT_EQ(t->EstimatedDistinct(1), std::nullopt);
  EXPECT_EQ(t->EstimatedDistinct(2), 30000);
  EXPECT_EQ(t->EstimatedDistinct(0), 150);  // remembered
}

TEST_F(ParquetTableStats, PlainPagesLeaveStringsUnknown) {
  // A dictionary page limit of 1 KiB: the writer falls back to plain pages.
  SLUICE_ASSERT_OK_AND_ASSIGN(auto t, ParquetTable::Open(Write("b.parquet", 1024)));
  EXPECT_EQ(t->EstimatedDistinct(0), std::nullopt);
}

}  // namespace
}  // namespace sluice::connector
