#include "sluice/connector/generator/ecommerce.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/testing/temp_dir.h"

namespace sluice::generator {
namespace {

namespace fs = std::filesystem;
using sluice::testing::ReadFile;
using sluice::testing::TempDir;

constexpr int64_t kJan1st2025 = 1735689600;
constexpr int64_t kJan1st2026 = 1767225600;

std::shared_ptr<arrow::Table> ReadParquet(const std::string& path) {
  auto file = arrow::io::ReadableFile::Open(path).ValueOrDie();
  auto reader = parquet::arrow::OpenFile(file, arrow::default_memory_pool()).ValueOrDie();
  std::shared_ptr<arrow::Table> table;
  EXPECT_TRUE(reader->ReadTable(&table).ok());
  return table->CombineChunks().ValueOrDie();
}

std::shared_ptr<parquet::FileMetaData> ParquetMetadata(const std::string& path) {
  return parquet::ParquetFileReader::OpenFile(path)->metadata();
}

template <typename ArrayType>
std::shared_ptr<ArrayType> Column(const arrow::Table& table, const std::string& name) {
  auto column = table.GetColumnByName(name);
  EXPECT_NE(column, nullptr) << name;
  EXPECT_EQ(column->num_chunks(), 1);
  return std::static_pointer_cast<ArrayType>(column->chunk(0));
}

int64_t Cents(const arrow::Decimal128Array& array, int64_t i) {
  return static_cast<int64_t>(arrow::Decimal128(array.GetValue(i)).low_bits());
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) fields.push_back(field);
  if (!line.empty() && line.back() == sep) fields.emplace_back();
  return fields;
}

// Strict YYYY-MM-DD in 2019-01-01..2025-12-31; returns days since 1970-01-01 or -1.
int64_t ParseSignupDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return -1;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)),
            d = std::stoi(s.substr(8, 2));
  if (y < 2019 || y > 2025 || m < 1 || m > 12 || d < 1) return -1;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int month_days[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > month_days[m - 1]) return -1;
  // Days since epoch by counting (fine for a test).
  int64_t days = 0;
  for (int year = 1970; year < y; ++year) {
    days += ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0) ? 366 : 365;
  }
  for (int month = 1; month < m; ++month) days += month_days[month - 1];
  return days + d - 1;
}

// What a strict reader finds in users.csv.
struct ParsedUsers {
  std::string header;
  int64_t lines = 0;
  int64_t wrong_field_count = 0;
  int64_t bad_date = 0;
  std::vector<int64_t> ids;                     // first field of every line, in order
  std::unordered_map<int64_t, int64_t> signup;  // good lines: id -> signup day
  std::map<std::string, int64_t> countries;     // good lines
  int64_t new_users = 0;                        // good lines
};

ParsedUsers ParseUsers(const std::string& path) {
  ParsedUsers out;
  std::istringstream in(ReadFile(path));
  std::getline(in, out.header);
  std::string line;
  while (std::getline(in, line)) {
    ++out.lines;
    const auto fields = Split(line, ',');
    out.ids.push_back(fields.empty() ? -1 : std::stoll(fields[0]));
    if (fields.size() != 4) {
      ++out.wrong_field_count;
      continue;
    }
    const int64_t day = ParseSignupDate(fields[1]);
    if (day < 0) {
      ++out.bad_date;
      continue;
    }
    out.signup[out.ids.back()] = day;
    ++out.countries[fields[2]];
    const bool is_new = day >= kJan1st2025 / 86400;
    EXPECT_EQ(fields[3], is_new ? "new" : "returning") << line;
    out.new_users += is_new;
  }
  return out;
}

std::vector<std::string> TempFilesIn(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find("sluice-tmp") != std::string::npos)
      found.push_back(entry.path().string());
  }
  return found;
}

TEST(EcommerceSizes, ScaleToRowCounts) {
  auto s = EcommerceSizesForScale(1).ValueOrDie();
  EXPECT_EQ(s.orders, 10'000'000);
  EXPECT_EQ(s.users, 500'000);
  EXPECT_EQ(s.products, 20'000);
  EXPECT_EQ(s.order_files, 10);
  s = EcommerceSizesForScale(0.001).ValueOrDie();
  EXPECT_EQ(s.orders, 10'000);
  EXPECT_EQ(s.users, 500);
  EXPECT_EQ(s.products, 50);
  EXPECT_EQ(s.order_files, 2);
  s = EcommerceSizesForScale(0.00001).ValueOrDie();
  EXPECT_EQ(s.orders, 100);
  EXPECT_EQ(s.users, 100);
  EXPECT_EQ(s.products, 50);
  EXPECT_EQ(s.order_files, 2);
  s = EcommerceSizesForScale(2.05).ValueOrDie();
  EXPECT_EQ(s.orders, 20'500'000);
  EXPECT_EQ(s.order_files, 21);
  for (double bad : {0.0, -1.0, 1e9, std::nan("")}) {
    EXPECT_TRUE(EcommerceSizesForScale(bad).status().IsInvalid()) << bad;
  }
}

TEST(GenerateEcommerce, RejectsBadOptions) {
  TempDir dir;
  EcommerceOptions options;
  options.scale = 0.001;
  EXPECT_TRUE(GenerateEcommerce(options).status().IsInvalid());  // no out_dir
  options.out_dir = dir.path();
  options.bad_user_fraction = 1.5;
  EXPECT_TRUE(GenerateEcommerce(options).status().IsInvalid());
  options.bad_user_fraction = 0.002;
  options.threads = -1;
  EXPECT_TRUE(GenerateEcommerce(options).status().IsInvalid());
  options.threads = 0;
  options.scale = 0;
  EXPECT_TRUE(GenerateEcommerce(options).status().IsInvalid());
}

TEST(GenerateEcommerce, OutDirThatIsAFileIsAnIOError) {
  TempDir dir;
  sluice::testing::WriteFile(dir.Join("file"), "x");
  EcommerceOptions options;
  options.scale = 0.001;
  options.out_dir = dir.Join("file");
  auto result = GenerateEcommerce(options);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsIOError()) << result.status();
}

// One data set at scale 0.001, checked from every side.
class EcommerceDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    EcommerceOptions options;
    options.scale = 0.001;
    options.out_dir = dir_->Join("out");  // does not exist yet
    options.threads = 2;
    options.progress = [](int64_t done, int64_t total) {
      progress_calls_.emplace_back(done, total);
    };
    auto result = GenerateEcommerce(options);
    ASSERT_TRUE(result.ok()) << result.status();
    summary_ = new EcommerceSummary(*result);
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete dir_;
  }
  static std::string Out(const std::string& name) { return dir_->Join("out/" + name); }

  static std::shared_ptr<arrow::Table> Orders() {
    std::vector<std::shared_ptr<arrow::Table>> parts;
    for (const char* name : {"orders/part-00000.parquet", "orders/part-00001.parquet"}) {
      parts.push_back(ReadParquet(Out(name)));
    }
    return arrow::ConcatenateTables(parts).ValueOrDie()->CombineChunks().ValueOrDie();
  }

  static TempDir* dir_;
  static EcommerceSummary* summary_;
  static std::vector<std::pair<int64_t, int64_t>> progress_calls_;
};
TempDir* EcommerceDataTest::dir_ = nullptr;
EcommerceSummary* EcommerceDataTest::summary_ = nullptr;
std::vector<std::pair<int64_t, int64_t>> EcommerceDataTest::progress_calls_;

TEST_F(EcommerceDataTest, SummaryListsTheFiles) {
  EXPECT_EQ(summary_->orders, 10'000);
  EXPECT_EQ(summary_->users, 500);
  EXPECT_EQ(summary_->products, 50);
  const std::vector<std::string> expected = {Out("products.parquet"), Out("users.csv"),
                                             Out("orders/part-00000.parquet"),
                                             Out("orders/part-00001.parquet")};
  EXPECT_EQ(summary_->files, expected);
  int64_t bytes = 0;
  for (const auto& f : expected) bytes += static_cast<int64_t>(fs::file_size(f));
  EXPECT_EQ(summary_->bytes_written, bytes);
  int64_t files_in_orders = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(Out("orders")))
    ++files_in_orders;
  EXPECT_EQ(files_in_orders, 2);
  EXPECT_TRUE(TempFilesIn(dir_->path()).empty());
}

TEST_F(EcommerceDataTest, ProgressReachesTheTotalMonotonically) {
  ASSERT_FALSE(progress_calls_.empty());
  const int64_t total = 10'000 + 500 + 50;
  for (size_t i = 0; i < progress_calls_.size(); ++i) {
    EXPECT_EQ(progress_calls_[i].second, total);
    if (i > 0) {
      EXPECT_GT(progress_calls_[i].first, progress_calls_[i - 1].first);
    }
  }
  EXPECT_EQ(progress_calls_.back().first, total);
}

TEST_F(EcommerceDataTest, Products) {
  auto table = ReadParquet(Out("products.parquet"));
  auto expected = arrow::schema({arrow::field("product_id", arrow::int64()),
                                 arrow::field("product_name", arrow::utf8()),
                                 arrow::field("category", arrow::utf8()),
                                 arrow::field("price", arrow::decimal128(10, 2))});
  ASSERT_TRUE(table->schema()->Equals(*expected)) << table->schema()->ToString();
  ASSERT_EQ(table->num_rows(), 50);
  auto ids = Column<arrow::Int64Array>(*table, "product_id");
  auto names = Column<arrow::StringArray>(*table, "product_name");
  auto categories = Column<arrow::StringArray>(*table, "category");
  auto prices = Column<arrow::Decimal128Array>(*table, "price");
  std::set<std::string> unique_names, unique_categories;
  for (int64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(ids->Value(i), i + 1);
    unique_names.insert(names->GetString(i));
    unique_categories.insert(categories->GetString(i));
    EXPECT_GE(Cents(*prices, i), 100);
    EXPECT_LE(Cents(*prices, i), 200'000);
  }
  EXPECT_EQ(table->column(0)->null_count() + table->column(1)->null_count() +
                table->column(2)->null_count() + table->column(3)->null_count(),
            0);
  EXPECT_EQ(unique_names.size(), 50u);
  EXPECT_GE(unique_categories.size(), 5u);
  EXPECT_LE(unique_categories.size(), 15u);
}

TEST_F(EcommerceDataTest, OrdersSchemaLayoutAndValues) {
  auto expected = arrow::schema(
      {arrow::field("order_id", arrow::int64()), arrow::field("user_id", arrow::int64()),
       arrow::field("product_id", arrow::int64()),
       arrow::field("quantity", arrow::int32()),
       arrow::field("amount", arrow::decimal128(12, 2)),
       arrow::field("status", arrow::utf8()), arrow::field("order_ts", arrow::int64())});
  for (const char* name : {"orders/part-00000.parquet", "orders/part-00001.parquet"}) {
    auto meta = ParquetMetadata(Out(name));
    EXPECT_EQ(meta->num_rows(), 5000) << name;
    for (int g = 0; g < meta->num_row_groups(); ++g) {
      EXPECT_LE(meta->RowGroup(g)->num_rows(), 128 * 1024);
      EXPECT_EQ(meta->RowGroup(g)->ColumnChunk(1)->compression(),
                parquet::Compression::SNAPPY);
    }
  }
  auto orders = Orders();
  ASSERT_TRUE(orders->schema()->Equals(*expected)) << orders->schema()->ToString();
  ASSERT_EQ(orders->num_rows(), 10'000);
  for (const auto& column : orders->columns()) EXPECT_EQ(column->null_count(), 0);

  auto products = ReadParquet(Out("products.parquet"));
  auto product_prices = Column<arrow::Decimal128Array>(*products, "price");
  auto order_id = Column<arrow::Int64Array>(*orders, "order_id");
  auto user_id = Column<arrow::Int64Array>(*orders, "user_id");
  auto product_id = Column<arrow::Int64Array>(*orders, "product_id");
  auto quantity = Column<arrow::Int32Array>(*orders, "quantity");
  auto amount = Column<arrow::Decimal128Array>(*orders, "amount");
  auto status = Column<arrow::StringArray>(*orders, "status");
  auto order_ts = Column<arrow::Int64Array>(*orders, "order_ts");

  std::set<int64_t> ids;
  std::map<std::string, int64_t> statuses;
  std::vector<int64_t> quantities(6);
  std::map<int64_t, int64_t> per_user, per_product;
  int64_t discounted = 0;
  for (int64_t i = 0; i < orders->num_rows(); ++i) {
    ids.insert(order_id->Value(i));
    EXPECT_GE(user_id->Value(i), 1);
    EXPECT_LE(user_id->Value(i), 500);
    ++per_user[user_id->Value(i)];
    const int64_t product = product_id->Value(i);
    ASSERT_GE(product, 1);
    ASSERT_LE(product, products->num_rows());  // ids are 1..P, checked in Products
    ++per_product[product];
    const int32_t q = quantity->Value(i);
    ASSERT_GE(q, 1);
    ASSERT_LE(q, 5);
    ++quantities[q];
    // amount = q * price * (1 - d) rounded half up, for a d in {0, 5, 10, 20}%.
    const int64_t gross = q * Cents(*product_prices, product - 1);
    bool matched = false;
    for (int64_t d : {0, 5, 10, 20}) {
      const int64_t expected_amount =
          static_cast<int64_t>(std::floor(gross * (100 - d) / 100.0 + 0.5));
      if (Cents(*amount, i) == expected_amount) {
        matched = true;
        discounted += d != 0;
        break;
      }
    }
    EXPECT_TRUE(matched) << "row " << i << " amount " << Cents(*amount, i) << " gross "
                         << gross;
    ++statuses[status->GetString(i)];
    EXPECT_GE(order_ts->Value(i), kJan1st2025);
    EXPECT_LT(order_ts->Value(i), kJan1st2026);
    if (i > 0) {
      EXPECT_EQ(order_id->Value(i), order_id->Value(i - 1) + 1);
      EXPECT_GE(order_ts->Value(i), order_ts->Value(i - 1)) << "row " << i;
    }
  }
  EXPECT_EQ(ids.size(), 10'000u);
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), 10'000);

  const double n = 10'000;
  EXPECT_EQ(statuses.size(), 4u);
  EXPECT_NEAR(statuses["completed"] / n, 0.70, 0.03);
  EXPECT_NEAR(statuses["pending"] / n, 0.15, 0.02);
  EXPECT_NEAR(statuses["cancelled"] / n, 0.10, 0.02);
  EXPECT_NEAR(statuses["refunded"] / n, 0.05, 0.015);
  EXPECT_NEAR(quantities[1] / n, 0.70, 0.03);
  EXPECT_GT(quantities[5], 0);
  EXPECT_NEAR(discounted / n, 0.25, 0.04);

  // Skew: the 5 busiest of 500 users (1%) place far more than 1% of the orders.
  std::vector<int64_t> user_counts;
  for (const auto& [user, count] : per_user) user_counts.push_back(count);
  std::sort(user_counts.rbegin(), user_counts.rend());
  int64_t top5 = 0;
  for (int i = 0; i < 5; ++i) top5 += user_counts[i];
  EXPECT_GT(top5, 0.05 * n);
  int64_t top_product = 0;
  for (const auto& [product, count] : per_product)
    top_product = std::max(top_product, count);
  EXPECT_GT(top_product, 3 * n / 50);
  // The first day of the year has orders, and so has the last.
  EXPECT_LT(order_ts->Value(0), kJan1st2025 + 86400);
  EXPECT_GE(order_ts->Value(orders->num_rows() - 1), kJan1st2026 - 86400);
}

TEST_F(EcommerceDataTest, WeekendsAndEveningsAreBusier) {
  auto orders = Orders();
  auto order_ts = Column<arrow::Int64Array>(*orders, "order_ts");
  std::vector<int64_t> weekday(7), hour(24);
  for (int64_t i = 0; i < orders->num_rows(); ++i) {
    const int64_t ts = order_ts->Value(i);
    ++weekday[(ts / 86400 + 3) % 7];  // 1970-01-01 was a Thursday: 0 = Monday
    ++hour[ts / 3600 % 24];
  }
  EXPECT_GT(weekday[6], weekday[1]);  // Sunday > Tuesday
  EXPECT_GT(hour[20], 5 * hour[4]);
}

TEST_F(EcommerceDataTest, UsersCsv) {
  const ParsedUsers users = ParseUsers(Out("users.csv"));
  EXPECT_EQ(users.header, "user_id,signup_date,country,user_type");
  ASSERT_EQ(users.lines, 500);
  for (int64_t i = 0; i < users.lines; ++i) EXPECT_EQ(users.ids[i], i + 1);
  EXPECT_EQ(users.wrong_field_count + users.bad_date, summary_->bad_user_rows);
  EXPECT_GE(users.countries.size(), 10u);
  EXPECT_LE(users.countries.size(), 20u);
  for (const auto& [country, count] : users.countries) {
    EXPECT_EQ(country.size(), 2u);
    EXPECT_TRUE(std::isupper(country[0]) && std::isupper(country[1])) << country;
  }
  // US is the most common country.
  for (const auto& [country, count] : users.countries)
    EXPECT_LE(count, users.countries.at("US"));
  const double good = static_cast<double>(users.signup.size());
  EXPECT_NEAR(users.new_users / good, 0.265, 0.06);

  // Signup dates grow with user_id, and nobody orders before signing up.
  int64_t last_day = 0;
  for (int64_t id = 1; id <= 500; ++id) {
    auto it = users.signup.find(id);
    if (it == users.signup.end()) continue;
    EXPECT_GE(it->second, last_day);
    last_day = it->second;
  }
  auto orders = Orders();
  auto user_id = Column<arrow::Int64Array>(*orders, "user_id");
  auto order_ts = Column<arrow::Int64Array>(*orders, "order_ts");
  for (int64_t i = 0; i < orders->num_rows(); ++i) {
    auto it = users.signup.find(user_id->Value(i));
    if (it != users.signup.end()) {
      ASSERT_GE(order_ts->Value(i), it->second * 86400) << "order " << i + 1;
    }
  }
}

TEST(GenerateEcommerce, MalformedUserRowsAreCountedExactly) {
  TempDir dir;
  EcommerceOptions options;
  options.scale = 0.002;  // 1000 users
  options.out_dir = dir.path();
  options.seed = 7;
  options.bad_user_fraction = 0.05;
  auto summary = GenerateEcommerce(options).ValueOrDie();
  const ParsedUsers users = ParseUsers(dir.Join("users.csv"));
  EXPECT_EQ(users.lines, 1000);
  EXPECT_EQ(users.wrong_field_count + users.bad_date, summary.bad_user_rows);
  EXPECT_GT(summary.bad_user_rows, 25);
  EXPECT_LT(summary.bad_user_rows, 80);
  EXPECT_GT(users.wrong_field_count, 5);
  EXPECT_GT(users.bad_date, 5);

  options.bad_user_fraction = 0;
  options.out_dir = dir.Join("clean");
  summary = GenerateEcommerce(options).ValueOrDie();
  EXPECT_EQ(summary.bad_user_rows, 0);
  EXPECT_EQ(ParseUsers(dir.Join("clean/users.csv")).signup.size(), 1000u);
}

TEST(GenerateEcommerce, OutputDoesNotDependOnThreads) {
  TempDir dir;
  EcommerceOptions options;
  options.scale = 0.03;  // 300K orders: several row groups per file
  options.bad_user_fraction = 0.01;
  std::vector<EcommerceSummary> summaries;
  for (int threads : {1, 2, 3}) {
    options.threads = threads;
    options.out_dir = dir.Join("t" + std::to_string(threads));
    summaries.push_back(GenerateEcommerce(options).ValueOrDie());
  }
  ASSERT_EQ(summaries[0].files.size(), 4u);
  for (size_t run = 1; run < summaries.size(); ++run) {
    EXPECT_EQ(summaries[run].bad_user_rows, summaries[0].bad_user_rows);
    EXPECT_EQ(summaries[run].bytes_written, summaries[0].bytes_written);
    for (size_t f = 0; f < summaries[0].files.size(); ++f) {
      EXPECT_TRUE(ReadFile(summaries[0].files[f]) == ReadFile(summaries[run].files[f]))
          << summaries[run].files[f];
    }
  }
  EXPECT_GT(ParquetMetadata(summaries[0].files[2])->num_row_groups(), 1);

  // A different seed gives different data.
  options.seed = 43;
  options.out_dir = dir.Join("seed43");
  auto other = GenerateEcommerce(options).ValueOrDie();
  EXPECT_FALSE(ReadFile(other.files[2]) == ReadFile(summaries[0].files[2]));
  EXPECT_FALSE(ReadFile(other.files[1]) == ReadFile(summaries[0].files[1]));
}

TEST(GenerateEcommerce, ReplacesAnEarlierRunAndLeavesNoTempFiles) {
  TempDir dir;
  // Leftovers: a bigger earlier run's part file and the temp file of a crashed run
  // (its pid, 999999999, is above any pid_max, so no live process owns it).
  sluice::testing::WriteFile(dir.Join("orders/part-00005.parquet"), "old");
  sluice::testing::WriteFile(
      dir.Join("orders/.sluice-tmp-999999999-0-part-00000.parquet"), "junk");
  sluice::testing::WriteFile(dir.Join("orders/notes.txt"), "mine");
  sluice::testing::WriteFile(dir.Join("users.csv"), "old");
  EcommerceOptions options;
  options.scale = 0.001;
  options.out_dir = dir.path();
  auto summary = GenerateEcommerce(options).ValueOrDie();
  EXPECT_TRUE(TempFilesIn(dir.path()).empty());
  EXPECT_FALSE(fs::exists(dir.Join("orders/part-00005.parquet")));
  EXPECT_TRUE(fs::exists(dir.Join("orders/notes.txt")));
  EXPECT_NE(ReadFile(dir.Join("users.csv")), "old");
  for (const auto& f : summary.files) EXPECT_TRUE(fs::exists(f)) << f;
}

}  // namespace
}  // namespace sluice::generator
