// Throughput of the JSON-lines reader on a generated file. Skipped unless
// SLUICE_JSON_BENCH_MB is set (the file size in MB), e.g.
//   SLUICE_JSON_BENCH_MB=200 build/release/src/sluice/sluice_connector_json_test
//       --gtest_filter='JsonThroughput.*'
// SLUICE_JSON_BENCH_FILE=path keeps the generated file there (and reuses it).
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "sluice/connector/json/json_reader.h"
#include "sluice/connector/json/line_reader_internal.h"
#include "sluice/testing/temp_dir.h"

namespace sluice::json {

namespace {

void Generate(const std::string& path, int64_t target_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::mt19937_64 rng(7);
  static const char* kCities[] = {"Berlin", "São Paulo", "Tokyo",  "New York",
                                  "Zürich", "Lagos",     "Mumbai", "Sydney"};
  std::string buf;
  int64_t written = 0;
  for (int64_t id = 0; written < target_bytes; ++id) {
    char line[256];
    int n = std::snprintf(
        line, sizeof(line),
        "{\"id\":%lld,\"user\":%d,\"price\":%.2f,\"ratio\":%.6g,\"qty\":%d,"
        "\"city\":\"%s\",\"name\":\"user-%llx\",\"active\":%s}\n",
        static_cast<long long>(id), static_cast<int>(rng() % 100000),
        static_cast<double>(rng() % 1000000) / 100,
        static_cast<double>(rng() % 1000) / 7.0, static_cast<int>(rng() % 50),
        kCities[rng() % 8], static_cast<unsigned long long>(rng() % 0xFFFFFFFFFF),
        rng() % 2 ? "true" : "false");
    buf.append(line, n);
    if (buf.size() > (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      written += static_cast<int64_t>(buf.size());
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  std::fclose(f);
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(JsonThroughput, GeneratedFile) {
  const char* mb = std::getenv("SLUICE_JSON_BENCH_MB");
  if (mb == nullptr) GTEST_SKIP() << "set SLUICE_JSON_BENCH_MB to run";
  sluice::testing::TempDir dir;
  const char* keep = std::getenv("SLUICE_JSON_BENCH_FILE");
  std::string path = keep != nullptr ? keep : dir.Join("bench.jsonl");
  if (!std::filesystem::exists(path)) Generate(path, std::atoll(mb) << 20);
  const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;

  {
    auto start = std::chrono::steady_clock::now();
    auto lines = internal::LineReader::Open(path, Compression::kNone).ValueOrDie();
    std::string_view line;
    int64_t n = 0;
    while (*lines->Next(&line)) ++n;
    double s = Seconds(start);
    std::printf("line splitting only:        %8.1f MB/s (%lld lines, %.1f MB)\n",
                file_mb / s, static_cast<long long>(n), file_mb);
  }

  auto run = [&](const char* label, const std::shared_ptr<arrow::Schema>& schema,
                 std::vector<int> projection) {
    auto start = std::chrono::steady_clock::now();
    auto reader =
        JsonReader::Open(path, schema, std::move(projection), {}, nullptr).ValueOrDie();
    int64_t rows = 0;
    for (;;) {
      auto batch = reader->Next().ValueOrDie();
      if (batch == nullptr) break;
      rows += batch->num_rows();
    }
    double s = Seconds(start);
    std::printf("%-28s%8.1f MB/s (%lld rows, %.2f s)\n", label, file_mb / s,
                static_cast<long long>(rows), s);
    EXPECT_EQ(reader->rows_rejected(), 0);
  };

  auto start = std::chrono::steady_clock::now();
  auto schema = InferSchema(path, {}).ValueOrDie();
  std::printf("infer schema (10000 lines): %8.3f s  %s\n", Seconds(start),
              schema->ToString().c_str());
  run("read all 8 columns:", schema, {});
  run("read 2 columns (id, price):", schema, {0, 2});
}

}  // namespace sluice::json
