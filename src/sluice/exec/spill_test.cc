#include "sluice/exec/spill.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "sluice/testing/assert_ok.h"
#include "sluice/testing/temp_dir.h"

namespace sluice::exec {
namespace {

std::shared_ptr<arrow::Schema> Schema() {
  return arrow::schema(
      {arrow::field("k", arrow::int64()), arrow::field("s", arrow::utf8())});
}

// Rows [from, from + n) of k = i, s = "v<i>".
std::shared_ptr<arrow::RecordBatch> Rows(int64_t from, int64_t n) {
  arrow::Int64Builder k;
  arrow::StringBuilder s;
  for (int64_t i = from; i < from + n; ++i) {
    EXPECT_TRUE(k.Append(i).ok());
    EXPECT_TRUE(s.Append("v" + std::to_string(i)).ok());
  }
  return arrow::RecordBatch::Make(Schema(), n,
                                  {k.Finish().ValueOrDie(), s.Finish().ValueOrDie()});
}

int64_t FilesIn(const std::string& dir) {
  int64_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    n += e.is_regular_file();
  }
  return n;
}

TEST(SpillSet, PartitionsReadBackFromEveryRunInOrder) {
  testing::TempDir tmp;
  ExecOptions options;
  options.spill_directory = tmp.path();
  ExecContext ctx(options);
  {
    SpillSet set(&ctx, "Test", Schema(), 4);
    // Two threads write runs at once; run r puts rows [1000 r + 10 p, +10) in part p,
    // as two batches (slices) of five rows.
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (int r = t; r < 6; r += 2) {
          auto run = set.NewRun();
          ASSERT_TRUE(run.ok()) << run.status().ToString();
          for (int p = 0; p < 4; ++p) {
            auto rows = Rows(1000 * r + 10 * p, 10);
            SLUICE_ASSERT_OK((*run)->Write(p, *rows->Slice(0, 5)));
            SLUICE_ASSERT_OK((*run)->Write(p, *rows->Slice(5, 5)));
          }
          SLUICE_ASSERT_OK((*run)->Close());
          EXPECT_GT((*run)->bytes(), 0);
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(set.runs(), 6);
    EXPECT_GT(set.bytes_written(), 0);
    EXPECT_EQ(ctx.spilled_bytes(), set.bytes_written());
    for (int p = 0; p < 4; ++p) {
      std::vector<int64_t> seen;
      SLUICE_ASSERT_OK(set.ReadPartition(p, [&](std::shared_ptr<arrow::RecordBatch> b) {
        EXPECT_TRUE(b->schema()->Equals(*Schema()));
        const auto& k = static_cast<const arrow::Int64Array&>(*b->column(0));
        const auto& s = static_cast<const arrow::StringArray&>(*b->column(1));
        for (int64_t i = 0; i < b->num_rows(); ++i) {
          EXPECT_EQ(s.GetString(i), "v" + std::to_string(k.Value(i)));
          seen.push_back(k.Value(i));
        }
        return Status::OK();
      }));
      ASSERT_EQ(seen.size(), 60u);
      std::sort(seen.begin(), seen.end());
      for (int r = 0; r < 6; ++r) {
        for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[r * 10 + i], 1000 * r + 10 * p + i);
      }
    }
    EXPECT_EQ(FilesIn(tmp.path()), 6);
  }
  EXPECT_EQ(FilesIn(tmp.path()), 0);  // the set removed its runs
}

TEST(SpillSet, AnUnclosedRunLeavesNoFileAndAnErrorStopsReading) {
  testing::TempDir tmp;
  ExecOptions options;
  options.spill_directory = tmp.path();
  ExecContext ctx(options);
  SpillSet set(&ctx, "Test", Schema(), 2);
  {
    SLUICE_ASSERT_OK_AND_ASSIGN(auto run, set.NewRun());
    SLUICE_ASSERT_OK(run->Write(0, *Rows(0, 3)));
  }
  EXPECT_EQ(set.runs(), 0);
  EXPECT_EQ(FilesIn(tmp.path()), 0);
  SLUICE_ASSERT_OK_AND_ASSIGN(auto run, set.NewRun());
  SLUICE_ASSERT_OK(run->Write(1, *Rows(0, 3)));
  SLUICE_ASSERT_OK(run->Close());
  Status st = set.ReadPartition(1, [](std::shared_ptr<arrow::RecordBatch>) {
    return Status::Invalid("stop here");
  });
  EXPECT_EQ(st.message(), "stop here");
  int64_t rows = 0;
  SLUICE_ASSERT_OK(set.ReadPartition(0, [&](std::shared_ptr<arrow::RecordBatch> b) {
    rows += b->num_rows();
    return Status::OK();
  }));
  EXPECT_EQ(rows, 0);
}

TEST(SpillSet, AnUnusableDirectoryIsAClearError) {
  testing::TempDir tmp;
  testing::WriteFile(tmp.Join("plain-file"), "x");
  ExecOptions options;
  options.spill_directory = tmp.Join("plain-file");  // a file, not a directory
  ExecContext ctx(options);
  SpillSet set(&ctx, "Test", Schema(), 2);
  auto run = set.NewRun();
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("spill directory"), std::string::npos)
      << run.status().ToString();
  EXPECT_NE(run.status().message().find("plain-file"), std::string::npos);
}

TEST(ExecContext, TheSpillDirectoryGoesWithTheContext) {
  testing::TempDir tmp;
  std::string made;
  {
    ExecOptions options;
    options.spill_directory = tmp.Join("nested/spill");
    ExecContext ctx(options);
    SLUICE_ASSERT_OK_AND_ASSIGN(made, ctx.SpillDirectory());
    SLUICE_ASSERT_OK_AND_ASSIGN(auto again, ctx.SpillDirectory());
    EXPECT_EQ(made, again);
    EXPECT_EQ(std::filesystem::path(made).parent_path(), tmp.Join("nested/spill"));
    testing::WriteFile(made + "/left-over", "x");
  }
  EXPECT_FALSE(std::filesystem::exists(made));
}

}  // namespace
}  // namespace sluice::exec
