#include "sluice/base/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace sluice {
namespace {

namespace fs = std::filesystem;

void Touch(const fs::path& p) { std::ofstream(p) << "x"; }

class StaleTempFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-atomic-file-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "part=1");
    // A process id above Linux's largest (2^22) names no process: a dead run's file.
    Touch(dir_ / ".sluice-tmp-99999999-0-a.parquet");
    Touch(dir_ / "part=1" / ".sluice-tmp-99999999-1-b.parquet");
    Touch(dir_ / (".sluice-tmp-" + std::to_string(::getpid()) + "-2-c.parquet"));
    Touch(dir_ / "kept.parquet");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(StaleTempFiles, RecursiveReachesPartitionDirectories) {
  RemoveStaleTempFiles(dir_.string(), /*recursive=*/true);
  EXPECT_FALSE(fs::exists(dir_ / ".sluice-tmp-99999999-0-a.parquet"));
  EXPECT_FALSE(fs::exists(dir_ / "part=1" / ".sluice-tmp-99999999-1-b.parquet"));
  EXPECT_TRUE(
      fs::exists(dir_ / (".sluice-tmp-" + std::to_string(::getpid()) + "-2-c.parquet")));
  EXPECT_TRUE(fs::exists(dir_ / "kept.parquet"));
}

TEST_F(StaleTempFiles, SingleFileDirectoryIsNotWalked) {
  RemoveStaleTempFiles(dir_.string(), /*recursive=*/false);
  EXPECT_FALSE(fs::exists(dir_ / ".sluice-tmp-99999999-0-a.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "part=1" / ".sluice-tmp-99999999-1-b.parquet"));
  EXPECT_TRUE(
      fs::exists(dir_ / (".sluice-tmp-" + std::to_string(::getpid()) + "-2-c.parquet")));
  EXPECT_TRUE(fs::exists(dir_ / "kept.parquet"));
}

}  // namespace
}  // namespace sluice
