#include "sluice/connector/generator/ecommerce.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string_view>

#include "sluice/base/atomic_file.h"
#include "sluice/base/parallel.h"
#include "sluice/connector/generator/random.h"

namespace sluice::generator {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------
// Sizes and layout

constexpr int64_t kOrdersPerScale = 10'000'000;
constexpr int64_t kUsersPerScale = 500'000;
constexpr int64_t kProductsPerScale = 20'000;
constexpr int64_t kMinUsers = 100;
constexpr int64_t kMinProducts = 50;
constexpr double kMaxScale = 10'000;  // part numbers have 5 digits
constexpr int64_t kMaxOrdersPerFile = 1'000'000;
constexpr int64_t kTargetRowGroupRows = 128 * 1024;
constexpr int64_t kUsersPerChunk = 64 * 1024;

// Seed streams: each kind of chunk draws from its own stream so that changing one
// table's layout never changes another's data.
constexpr uint64_t kOrdersStream = 1;
constexpr uint64_t kUsersStream = 2;
constexpr uint64_t kProductsStream = 3;
constexpr uint64_t kSignupStream = 4;
constexpr uint64_t kUserSkewStream = 5;
constexpr uint64_t kProductSkewStream = 6;

// Power-law exponents: the top 1% of users place ~1/3 of the orders, the top 1% of
// products get ~40% of them.
constexpr double kUserExponent = 0.8;
constexpr double kProductExponent = 0.9;

// ---------------------------------------------------------------------------------
// Calendar

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

const int64_t kSignupFirstDay = DaysFromCivil(2019, 1, 1);
const int64_t kYear2025FirstDay = DaysFromCivil(2025, 1, 1);
const int64_t kSignupDays = DaysFromCivil(2026, 1, 1) - kSignupFirstDay;  // 2557
const int64_t kNewUserFirstIndex = kYear2025FirstDay - kSignupFirstDay;   // 2192
constexpr int64_t kOrderDays = 365;
constexpr int64_t kOrderHours = kOrderDays * 24;
constexpr int64_t kSecondsPerDay = 86400;

// Relative order volume by hour of day (UTC) and by weekday (Monday = 0).
constexpr std::array<double, 24> kHourWeights = {
    0.35, 0.20, 0.12, 0.08, 0.07, 0.10, 0.20, 0.40, 0.60, 0.75, 0.85, 0.90,
    1.00, 0.95, 0.90, 0.88, 0.90, 0.95, 1.05, 1.20, 1.30, 1.25, 1.00, 0.65};
constexpr std::array<double, 7> kWeekdayWeights = {1.00, 0.97, 0.97, 1.00,
                                                   1.08, 1.20, 1.25};

// Relative order volume of day `day` of 2025 (0 = Jan 1, a Wednesday).
double DayWeight(int64_t day) {
  double w = kWeekdayWeights[(day + 2) % 7];
  const int64_t black_friday = DaysFromCivil(2025, 11, 28) - kYear2025FirstDay;
  if (day == black_friday) {
    w *= 3.0;
  } else if (day == black_friday + 1 || day == black_friday + 2) {
    w *= 1.8;
  } else if (day == black_friday + 3) {  // Cyber Monday
    w *= 2.5;
  } else if (day > black_friday + 3 &&
             day < DaysFromCivil(2025, 12, 23) - kYear2025FirstDay) {
    w *= 1.15;  // holiday shopping
  }
  return w;
}

// ---------------------------------------------------------------------------------
// Value distributions

struct Weighted {
  const char* value;
  double weight;
};

constexpr std::array<Weighted, 20> kCountries = {{
    {"US", 30},  {"DE", 9},   {"GB", 8},   {"IN", 7},   {"FR", 6},
    {"BR", 5},   {"JP", 5},   {"CA", 4},   {"IT", 3.5}, {"ES", 3.5},
    {"NL", 2.5}, {"AU", 2.5}, {"MX", 2.5}, {"KR", 2},   {"CN", 2},
    {"PL", 2},   {"SE", 1.5}, {"TR", 1.5}, {"ZA", 1},   {"NG", 1},
}};

constexpr std::array<Weighted, 4> kStatuses = {
    {{"completed", 70}, {"pending", 15}, {"cancelled", 10}, {"refunded", 5}}};

constexpr std::array<double, 5> kQuantityWeights = {70, 15, 8, 4, 3};  // 1..5
constexpr std::array<int64_t, 4> kDiscountPercents = {0, 5, 10, 20};
constexpr std::array<double, 4> kDiscountWeights = {75, 10, 10, 5};

struct Category {
  const char* name;
  double weight;
  double min_price;  // dollars
  double max_price;
  std::array<const char*, 4> nouns;
};

constexpr std::array<Category, 15> kCategories = {{
    {"Electronics", 14, 10, 2000, {"Headphones", "Speaker", "Charger", "Keyboard"}},
    {"Home & Kitchen", 13, 5, 1500, {"Lamp", "Mug", "Pan", "Blanket"}},
    {"Clothing", 12, 5, 300, {"Jacket", "Shirt", "Scarf", "Sneakers"}},
    {"Books", 9, 3, 80, {"Cookbook", "Novel", "Journal", "Atlas"}},
    {"Sports & Outdoors", 8, 5, 1200, {"Backpack", "Bottle", "Tent", "Yoga Mat"}},
    {"Beauty", 7, 2, 150, {"Brush", "Mirror", "Comb", "Cosmetic Bag"}},
    {"Toys & Games", 7, 3, 300, {"Puzzle", "Robot", "Kite", "Board Game"}},
    {"Health", 6, 2, 250, {"Massager", "Thermometer", "Scale", "First Aid Kit"}},
    {"Grocery", 5, 1, 60, {"Tea Tin", "Coffee Canister", "Spice Jar", "Snack Box"}},
    {"Automotive", 4, 5, 1500, {"Seat Cover", "Floor Mat", "Phone Mount", "Tool Kit"}},
    {"Garden", 4, 3, 800, {"Planter", "Hose", "Shovel", "Bird Feeder"}},
    {"Office Supplies", 4, 1, 500, {"Desk Organizer", "Pen", "Stapler", "Binder"}},
    {"Pet Supplies", 3, 2, 250, {"Collar", "Leash", "Pet Bed", "Bowl"}},
    {"Jewelry", 2, 10, 2000, {"Ring", "Necklace", "Bracelet", "Watch"}},
    {"Music", 2, 5, 2000, {"Guitar Strap", "Drum Pad", "Ukulele", "Metronome"}},
}};

constexpr std::array<const char*, 20> kAdjectives = {
    "Classic", "Compact", "Deluxe",   "Durable", "Elegant",   "Essential", "Handmade",
    "Light",   "Modern",  "Portable", "Premium", "Practical", "Refined",   "Rustic",
    "Sleek",   "Smart",   "Sturdy",   "Ultra",   "Vintage",   "Eco"};
constexpr std::array<const char*, 16> kMaterials = {
    "Bamboo", "Canvas", "Ceramic", "Cotton",  "Glass",  "Leather", "Linen", "Marble",
    "Metal",  "Nylon",  "Oak",     "Plastic", "Rubber", "Silk",    "Steel", "Wool"};

// Unparsable signup dates (none is in Arrow's default list of null spellings).
constexpr std::array<const char*, 6> kBadDates = {
    "2024-13-45", "not-a-date", "2023-00-12", "31/12/2024", "2022-06-32", "20x1-05-01"};

template <typename Array>
std::vector<double> WeightsOf(const Array& items) {
  std::vector<double> w;
  for (const auto& item : items) w.push_back(item.weight);
  return w;
}

// ---------------------------------------------------------------------------------
// Shared read-only state of one run

struct Plan {
  EcommerceSizes sizes;
  uint64_t seed = 0;
  double bad_user_fraction = 0;
  fs::path out_dir;
};

// Day index (0 = 2019-01-01) of a user's signup. A pure function of (seed, user_id),
// non-decreasing in user_id (ids are handed out in signup order); the density of
// signups grows linearly over time, so ~26% of the users sign up in 2025.
int64_t SignupDay(uint64_t signup_seed, int64_t users, int64_t user_id) {
  const double jitter = ToUnitDouble(Hash64(signup_seed, static_cast<uint64_t>(user_id)));
  const double position =
      (static_cast<double>(user_id - 1) + jitter) / static_cast<double>(users);
  const auto day =
      static_cast<int64_t>(static_cast<double>(kSignupDays) * std::sqrt(position));
  return std::min(day, kSignupDays - 1);
}

// Everything the order chunks need, computed once.
struct OrderModel {
  OrderModel(const Plan& plan, std::vector<int64_t> product_prices)
      : users(plan.sizes.users, kUserExponent, ChunkSeed(plan.seed, kUserSkewStream, 0)),
        products(plan.sizes.products, kProductExponent,
                 ChunkSeed(plan.seed, kProductSkewStream, 0)),
        quantity(std::vector<double>(kQuantityWeights.begin(), kQuantityWeights.end())),
        discount(std::vector<double>(kDiscountWeights.begin(), kDiscountWeights.end())),
        status(WeightsOf(kStatuses)),
        prices(std::move(product_prices)) {
    hour_start.resize(kOrderHours + 1);
    hour_weight.resize(kOrderHours);
    double sum = 0;
    for (int64_t h = 0; h < kOrderHours; ++h) {
      hour_start[h] = sum;
      hour_weight[h] = DayWeight(h / 24) * kHourWeights[h % 24];
      sum += hour_weight[h];
    }
    hour_start[kOrderHours] = sum;
    weight_per_order = sum / static_cast<double>(plan.sizes.orders);
    // last_eligible_user[d]: users with id <= it signed up on or before day d of 2025.
    const uint64_t signup_seed = ChunkSeed(plan.seed, kSignupStream, 0);
    const int64_t n = plan.sizes.users;
    last_eligible_user.resize(kOrderDays);
    for (int64_t d = 0; d < kOrderDays; ++d) {
      int64_t lo = 0,
              hi = n;  // invariant: SignupDay(lo) ok (or lo = 0), SignupDay(hi + 1) not
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo + 1) / 2;
        if (SignupDay(signup_seed, n, mid) <= kNewUserFirstIndex + d) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      last_eligible_user[d] = std::max<int64_t>(lo, 1);
    }
  }

  PowerLawSampler users;
  PowerLawSampler products;
  AliasTable quantity;
  AliasTable discount;
  AliasTable status;
  std::vector<int64_t> prices;     // cents, index product_id - 1
  std::vector<double> hour_start;  // cumulative weight before each hour of 2025
  std::vector<double> hour_weight;
  double weight_per_order = 0;
  std::vector<int64_t> last_eligible_user;
};

// Serializes the progress callback and keeps rows_done monotonic.
class ProgressReporter {
 public:
  ProgressReporter(std::function<void(int64_t, int64_t)> fn, int64_t total)
      : fn_(std::move(fn)), total_(total) {}
  void Add(int64_t rows) {
    if (!fn_) return;
    std::lock_guard<std::mutex> lock(mu_);
    done_ += rows;
    fn_(done_, total_);
  }

 private:
  std::function<void(int64_t, int64_t)> fn_;
  const int64_t total_;
  std::mutex mu_;
  int64_t done_ = 0;
};

Status Annotate(const Status& st, const fs::path& path) {
  if (st.ok()) return st;
  return st.WithMessage("writing '", path.string(), "': ", st.message());
}

// Removes a temporary file unless it was published.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!published_) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  Status Publish(const std::string& final_path) {
    ARROW_RETURN_NOT_OK(PublishTempFile(path_, final_path));
    published_ = true;
    return Status::OK();
  }

 private:
  std::string path_;
  bool published_ = false;
};

// ---------------------------------------------------------------------------------
// Arrow array construction

template <typename T>
Result<std::shared_ptr<arrow::Buffer>> AllocateValues(int64_t n, T** out) {
  ARROW_ASSIGN_OR_RAISE(std::unique_ptr<arrow::Buffer> buf,
                        arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(T))));
  *out = reinterpret_cast<T*>(buf->mutable_data());
  return std::shared_ptr<arrow::Buffer>(std::move(buf));
}

std::shared_ptr<arrow::Array> MakeArray(
    std::shared_ptr<arrow::DataType> type, int64_t n,
    std::vector<std::shared_ptr<arrow::Buffer>> buffers) {
  return arrow::MakeArray(
      arrow::ArrayData::Make(std::move(type), n, std::move(buffers), 0));
}

// Decimal128 values from unscaled integers (e.g. cents), all non-negative.
Result<std::shared_ptr<arrow::Array>> MakeDecimalArray(
    const std::vector<int64_t>& unscaled, std::shared_ptr<arrow::DataType> type) {
  const auto n = static_cast<int64_t>(unscaled.size());
  uint8_t* out = nullptr;
  ARROW_ASSIGN_OR_RAISE(auto buf, AllocateValues<uint8_t>(n * 16, &out));
  for (int64_t i = 0; i < n; ++i) arrow::Decimal128(unscaled[i]).ToBytes(out + 16 * i);
  return MakeArray(std::move(type), n, {nullptr, std::move(buf)});
}

// ---------------------------------------------------------------------------------
// Parquet output

std::shared_ptr<parquet::WriterProperties> WriterPropertiesFor(
    const std::vector<std::string>& delta_columns) {
  parquet::WriterProperties::Builder builder;
  builder.compression(parquet::Compression::SNAPPY);
  // Ascending, unique int64 columns: delta encoding beats a dictionary by far.
  for (const auto& column : delta_columns) {
    builder.disable_dictionary(column);
    builder.encoding(column, parquet::Encoding::DELTA_BINARY_PACKED);
  }
  return builder.build();
}

// Writes `num_groups` row groups, group g made by make_group(g), to `path` atomically.
Status WriteParquetFile(
    const fs::path& path, const std::shared_ptr<arrow::Schema>& schema,
    std::shared_ptr<parquet::WriterProperties> properties, int64_t num_groups,
    const std::function<Result<std::shared_ptr<arrow::RecordBatch>>(int64_t)>&
        make_group) {
  TempFile temp(TempPathFor(path.string()));
  ARROW_ASSIGN_OR_RAISE(auto sink, arrow::io::FileOutputStream::Open(temp.path()));
  auto arrow_properties =
      parquet::ArrowWriterProperties::Builder().store_schema()->build();
  ARROW_ASSIGN_OR_RAISE(
      auto writer, parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(),
                                                    sink, std::move(properties),
                                                    std::move(arrow_properties)));
  for (int64_t g = 0; g < num_groups; ++g) {
    ARROW_ASSIGN_OR_RAISE(auto batch, make_group(g));
    ARROW_RETURN_NOT_OK(writer->NewRowGroup());
    for (const auto& column : batch->columns()) {
      ARROW_RETURN_NOT_OK(writer->WriteColumnChunk(*column));
    }
  }
  ARROW_RETURN_NOT_OK(writer->Close());
  ARROW_RETURN_NOT_OK(sink->Close());
  return temp.Publish(path.string());
}

// Splits [0, n) into `parts` nearly equal ranges; returns the start of range i.
int64_t RangeStart(int64_t n, int64_t parts, int64_t i) {
  return static_cast<int64_t>(static_cast<unsigned __int128>(n) * i / parts);
}

// ---------------------------------------------------------------------------------
// Products

std::shared_ptr<arrow::Schema> ProductsSchema() {
  return arrow::schema({arrow::field("product_id", arrow::int64()),
                        arrow::field("product_name", arrow::utf8()),
                        arrow::field("category", arrow::utf8()),
                        arrow::field("price", arrow::decimal128(10, 2))});
}

struct ProductChunk {
  int64_t first_id = 0;
  std::vector<uint8_t> category;
  std::vector<int64_t> price_cents;
  std::vector<std::string> names;  // filled only when asked for
};

// Products [first_id, first_id + rows) from the chunk's own seed.
ProductChunk GenerateProducts(const Plan& plan, const AliasTable& categories,
                              int64_t chunk, int64_t first_id, int64_t rows,
                              bool with_names) {
  Rng rng(ChunkSeed(plan.seed, kProductsStream, static_cast<uint64_t>(chunk)));
  ProductChunk out;
  out.first_id = first_id;
  out.category.resize(rows);
  out.price_cents.resize(rows);
  if (with_names) out.names.resize(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const uint32_t c = categories.Sample(rng);
    const Category& cat = kCategories[c];
    // Log-uniform within the category's price range; most prices end in .99.
    const double log_lo = std::log(cat.min_price), log_hi = std::log(cat.max_price);
    int64_t cents =
        std::llround(std::exp(log_lo + rng.NextDouble() * (log_hi - log_lo)) * 100);
    if (rng.Bernoulli(0.6)) cents = cents / 100 * 100 + 99;
    cents = std::clamp<int64_t>(cents, 100, 200'000);
    const uint64_t words = rng.Next();  // keep the draws per row fixed
    out.category[i] = static_cast<uint8_t>(c);
    out.price_cents[i] = cents;
    if (with_names) {
      out.names[i] =
          fmt::format("{} {} {} #{}", kAdjectives[words % kAdjectives.size()],
                      kMaterials[(words >> 16) % kMaterials.size()],
                      cat.nouns[(words >> 32) % cat.nouns.size()], first_id + i);
    }
  }
  return out;
}

int64_t ProductChunks(const Plan& plan) {
  return (plan.sizes.products + kTargetRowGroupRows - 1) / kTargetRowGroupRows;
}

std::vector<int64_t> ProductPrices(const Plan& plan, const AliasTable& categories) {
  std::vector<int64_t> prices;
  prices.reserve(plan.sizes.products);
  const int64_t chunks = ProductChunks(plan);
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t first = RangeStart(plan.sizes.products, chunks, c);
    const int64_t rows = RangeStart(plan.sizes.products, chunks, c + 1) - first;
    ProductChunk chunk = GenerateProducts(plan, categories, c, first + 1, rows, false);
    prices.insert(prices.end(), chunk.price_cents.begin(), chunk.price_cents.end());
  }
  return prices;
}

Status WriteProducts(const Plan& plan, const AliasTable& categories, const fs::path& path,
                     ProgressReporter* progress) {
  const auto schema = ProductsSchema();
  const int64_t chunks = ProductChunks(plan);
  auto make_group = [&](int64_t c) -> Result<std::shared_ptr<arrow::RecordBatch>> {
    const int64_t first = RangeStart(plan.sizes.products, chunks, c);
    const int64_t rows = RangeStart(plan.sizes.products, chunks, c + 1) - first;
    ProductChunk chunk = GenerateProducts(plan, categories, c, first + 1, rows, true);
    int64_t* ids = nullptr;
    ARROW_ASSIGN_OR_RAISE(auto id_buf, AllocateValues<int64_t>(rows, &ids));
    arrow::StringBuilder names, cats;
    ARROW_RETURN_NOT_OK(names.Reserve(rows));
    ARROW_RETURN_NOT_OK(cats.Reserve(rows));
    for (int64_t i = 0; i < rows; ++i) {
      ids[i] = first + 1 + i;
      ARROW_RETURN_NOT_OK(names.Append(chunk.names[i]));
      ARROW_RETURN_NOT_OK(cats.Append(kCategories[chunk.category[i]].name));
    }
    std::shared_ptr<arrow::Array> name_array, cat_array;
    ARROW_RETURN_NOT_OK(names.Finish(&name_array));
    ARROW_RETURN_NOT_OK(cats.Finish(&cat_array));
    ARROW_ASSIGN_OR_RAISE(auto prices,
                          MakeDecimalArray(chunk.price_cents, schema->field(3)->type()));
    progress->Add(rows);
    return arrow::RecordBatch::Make(
        schema, rows,
        {MakeArray(arrow::int64(), rows, {nullptr, std::move(id_buf)}), name_array,
         cat_array, prices});
  };
  return Annotate(WriteParquetFile(path, schema, WriterPropertiesFor({"product_id"}),
                                   chunks, make_group),
                  path);
}

// ---------------------------------------------------------------------------------
// Users

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

// Appends the lines of users [first_id, first_id + rows); returns the number of
// malformed lines.
int64_t GenerateUsers(const Plan& plan, const AliasTable& countries,
                      const std::vector<std::string>& dates, int64_t chunk,
                      int64_t first_id, int64_t rows, std::string* out) {
  Rng rng(ChunkSeed(plan.seed, kUsersStream, static_cast<uint64_t>(chunk)));
  const uint64_t signup_seed = ChunkSeed(plan.seed, kSignupStream, 0);
  int64_t bad = 0;
  for (int64_t id = first_id; id < first_id + rows; ++id) {
    const int64_t day = SignupDay(signup_seed, plan.sizes.users, id);
    const char* country = kCountries[countries.Sample(rng)].value;
    const char* user_type = day >= kNewUserFirstIndex ? "new" : "returning";
    // Draw the same number of values for every row so that the fraction does not
    // shift the other columns' values.
    const bool is_bad = rng.Bernoulli(plan.bad_user_fraction);
    const uint64_t how = rng.Next();
    AppendInt(out, id);
    out->push_back(',');
    if (!is_bad) {
      out->append(dates[day]);
      out->push_back(',');
      out->append(country);
      out->push_back(',');
      out->append(user_type);
    } else {
      ++bad;
      switch (how % 4) {
        case 0:  // unparsable date
        case 1:
          out->append(kBadDates[(how >> 8) % kBadDates.size()]);
          out->push_back(',');
          out->append(country);
          out->push_back(',');
          out->append(user_type);
          break;
        case 2:  // a field missing
          out->append(dates[day]);
          out->push_back(',');
          out->append((how >> 8) % 2 ? country : user_type);
          break;
        default:  // an extra field (empty, or a stray value)
          out->append(dates[day]);
          out->push_back(',');
          out->append(country);
          out->push_back(',');
          out->append(user_type);
          out->append((how >> 8) % 2 ? "," : ",promo");
          break;
      }
    }
    out->push_back('\n');
  }
  return bad;
}

Result<int64_t> WriteUsers(const Plan& plan, const fs::path& path,
                           ProgressReporter* progress,
                           const std::atomic<bool>& cancelled) {
  const AliasTable countries(WeightsOf(kCountries));
  std::vector<std::string> dates(kSignupDays);
  for (int64_t d = 0; d < kSignupDays; ++d) {
    int64_t y;
    unsigned m, day;
    CivilFromDays(kSignupFirstDay + d, &y, &m, &day);
    dates[d] = fmt::format("{:04d}-{:02d}-{:02d}", y, m, day);
  }
  TempFile temp(TempPathFor(path.string()));
  ARROW_ASSIGN_OR_RAISE(auto sink, arrow::io::FileOutputStream::Open(temp.path()));
  std::string text = "user_id,signup_date,country,user_type\n";
  const int64_t n = plan.sizes.users;
  const int64_t chunks = (n + kUsersPerChunk - 1) / kUsersPerChunk;
  int64_t bad = 0;
  for (int64_t c = 0; c < chunks && !cancelled.load(); ++c) {
    const int64_t first = c * kUsersPerChunk;
    const int64_t rows = std::min(kUsersPerChunk, n - first);
    bad += GenerateUsers(plan, countries, dates, c, first + 1, rows, &text);
    ARROW_RETURN_NOT_OK(sink->Write(text.data(), static_cast<int64_t>(text.size())));
    text.clear();
    progress->Add(rows);
  }
  ARROW_RETURN_NOT_OK(sink->Close());
  if (cancelled.load()) return Status::Cancelled("cancelled");
  ARROW_RETURN_NOT_OK(temp.Publish(path.string()));
  return bad;
}

// ---------------------------------------------------------------------------------
// Orders

std::shared_ptr<arrow::Schema> OrdersSchema() {
  return arrow::schema(
      {arrow::field("order_id", arrow::int64()), arrow::field("user_id", arrow::int64()),
       arrow::field("product_id", arrow::int64()),
       arrow::field("quantity", arrow::int32()),
       arrow::field("amount", arrow::decimal128(12, 2)),
       arrow::field("status", arrow::utf8()), arrow::field("order_ts", arrow::int64())});
}

// Orders with 0-based global indexes [first, first + rows), from the chunk's own seed
// (the chunk is named by its first index, so the layout of files and row groups is
// the only thing that decides the seeds).
Result<std::shared_ptr<arrow::RecordBatch>> GenerateOrders(
    const Plan& plan, const OrderModel& model,
    const std::shared_ptr<arrow::Schema>& schema, int64_t first, int64_t rows) {
  Rng rng(ChunkSeed(plan.seed, kOrdersStream, static_cast<uint64_t>(first)));
  int64_t *order_id, *user_id, *product_id, *order_ts;
  int32_t *quantity, *status_offsets;
  ARROW_ASSIGN_OR_RAISE(auto order_id_buf, AllocateValues(rows, &order_id));
  ARROW_ASSIGN_OR_RAISE(auto user_id_buf, AllocateValues(rows, &user_id));
  ARROW_ASSIGN_OR_RAISE(auto product_id_buf, AllocateValues(rows, &product_id));
  ARROW_ASSIGN_OR_RAISE(auto order_ts_buf, AllocateValues(rows, &order_ts));
  ARROW_ASSIGN_OR_RAISE(auto quantity_buf, AllocateValues(rows, &quantity));
  ARROW_ASSIGN_OR_RAISE(auto offsets_buf, AllocateValues(rows + 1, &status_offsets));
  std::vector<int64_t> amount_cents(rows);
  std::vector<uint8_t> status(rows);
  int64_t status_bytes = 0;

  // Order i sits at position (i + jitter) / N of 2025's cumulative order volume; walking
  // the hours in step keeps order_ts non-decreasing in order_id.
  const auto& hour_start = model.hour_start;
  const double first_position = static_cast<double>(first) * model.weight_per_order;
  int64_t hour =
      std::upper_bound(hour_start.begin(), hour_start.end() - 1, first_position) -
      hour_start.begin() - 1;
  hour = std::max<int64_t>(hour, 0);
  const int64_t year_start = kYear2025FirstDay * kSecondsPerDay;

  for (int64_t i = 0; i < rows; ++i) {
    const int64_t index = first + i;
    const double position =
        (static_cast<double>(index) + rng.NextDouble()) * model.weight_per_order;
    while (hour + 1 < kOrderHours && hour_start[hour + 1] <= position) ++hour;
    const double within = (position - hour_start[hour]) / model.hour_weight[hour];
    const int64_t second =
        std::clamp<int64_t>(static_cast<int64_t>(within * 3600), 0, 3599);
    order_ts[i] = year_start + hour * 3600 + second;

    // A user who has signed up by the order's day: resample a few times, then fall
    // back to a uniform pick among the eligible users (rare: early January only).
    const int64_t eligible = model.last_eligible_user[hour / 24];
    int64_t user = model.users.Sample(rng);
    for (int attempt = 0; attempt < 4 && user > eligible; ++attempt) {
      user = model.users.Sample(rng);
    }
    if (user > eligible)
      user = 1 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(eligible)));

    const int64_t product = model.products.Sample(rng);
    const int32_t q = static_cast<int32_t>(model.quantity.Sample(rng)) + 1;
    const int64_t discount = kDiscountPercents[model.discount.Sample(rng)];
    const uint32_t s = model.status.Sample(rng);

    order_id[i] = index + 1;
    user_id[i] = user;
    product_id[i] = product;
    quantity[i] = q;
    // Exact cents, rounded half up: price * q * (100 - discount) / 100.
    amount_cents[i] = (model.prices[product - 1] * q * (100 - discount) + 50) / 100;
    status[i] = static_cast<uint8_t>(s);
    status_offsets[i] = static_cast<int32_t>(status_bytes);
    status_bytes += static_cast<int64_t>(std::strlen(kStatuses[s].value));
  }
  status_offsets[rows] = static_cast<int32_t>(status_bytes);
  char* status_data = nullptr;
  ARROW_ASSIGN_OR_RAISE(auto status_data_buf, AllocateValues(status_bytes, &status_data));
  for (int64_t i = 0; i < rows; ++i) {
    const char* value = kStatuses[status[i]].value;
    std::memcpy(status_data + status_offsets[i], value,
                status_offsets[i + 1] - status_offsets[i]);
  }
  ARROW_ASSIGN_OR_RAISE(auto amount,
                        MakeDecimalArray(amount_cents, schema->field(4)->type()));
  return arrow::RecordBatch::Make(
      schema, rows,
      {MakeArray(arrow::int64(), rows, {nullptr, std::move(order_id_buf)}),
       MakeArray(arrow::int64(), rows, {nullptr, std::move(user_id_buf)}),
       MakeArray(arrow::int64(), rows, {nullptr, std::move(product_id_buf)}),
       MakeArray(arrow::int32(), rows, {nullptr, std::move(quantity_buf)}), amount,
       MakeArray(arrow::utf8(), rows,
                 {nullptr, std::move(offsets_buf), std::move(status_data_buf)}),
       MakeArray(arrow::int64(), rows, {nullptr, std::move(order_ts_buf)})});
}

fs::path OrderFilePath(const fs::path& out_dir, int64_t file) {
  return out_dir / "orders" / fmt::format("part-{:05d}.parquet", file);
}

Status WriteOrderFile(const Plan& plan, const OrderModel& model, int64_t file,
                      ProgressReporter* progress, const std::atomic<bool>& cancelled) {
  const auto schema = OrdersSchema();
  const int64_t n = plan.sizes.orders;
  const int64_t first = RangeStart(n, plan.sizes.order_files, file);
  const int64_t rows = RangeStart(n, plan.sizes.order_files, file + 1) - first;
  const int64_t groups =
      std::max<int64_t>(1, (rows + kTargetRowGroupRows - 1) / kTargetRowGroupRows);
  const fs::path path = OrderFilePath(plan.out_dir, file);
  auto make_group = [&](int64_t g) -> Result<std::shared_ptr<arrow::RecordBatch>> {
    if (cancelled.load()) return Status::Cancelled("cancelled");
    const int64_t begin = first + RangeStart(rows, groups, g);
    const int64_t end = first + RangeStart(rows, groups, g + 1);
    ARROW_ASSIGN_OR_RAISE(auto batch,
                          GenerateOrders(plan, model, schema, begin, end - begin));
    progress->Add(end - begin);
    return batch;
  };
  return Annotate(
      WriteParquetFile(path, schema, WriterPropertiesFor({"order_id", "order_ts"}),
                       groups, make_group),
      path);
}

// Removes orders/part-NNNNN.parquet files of an earlier run with more parts.
void RemoveExtraOrderFiles(const fs::path& orders_dir, int64_t files) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(orders_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 18 || name.rfind("part-", 0) != 0 || name.substr(10) != ".parquet")
      continue;
    int64_t index = 0;
    const auto res = std::from_chars(name.data() + 5, name.data() + 10, index);
    if (res.ec != std::errc() || res.ptr != name.data() + 10) continue;
    if (index >= files) fs::remove(entry.path(), ec);
  }
}

}  // namespace

Result<EcommerceSizes> EcommerceSizesForScale(double scale) {
  if (!std::isfinite(scale) || scale <= 0 || scale > kMaxScale) {
    return Status::Invalid("ecommerce generator: scale must be in (0, ", kMaxScale,
                           "], got ", scale);
  }
  EcommerceSizes sizes;
  sizes.orders =
      std::max<int64_t>(1, std::llround(static_cast<double>(kOrdersPerScale) * scale));
  sizes.users = std::max<int64_t>(
      kMinUsers, std::llround(static_cast<double>(kUsersPerScale) * scale));
  sizes.products = std::max<int64_t>(
      kMinProducts, std::llround(static_cast<double>(kProductsPerScale) * scale));
  sizes.order_files =
      std::max<int64_t>((sizes.orders + kMaxOrdersPerFile - 1) / kMaxOrdersPerFile,
                        sizes.orders >= 2 ? 2 : 1);
  return sizes;
}

namespace {

class OrdersOnDemand : public EcommerceOrders {
 public:
  OrdersOnDemand(Plan plan, std::vector<int64_t> prices)
      : plan_(std::move(plan)), model_(plan_, std::move(prices)) {
    // The row groups of the order files, as WriteOrderFile cuts them.
    const int64_t n = plan_.sizes.orders;
    for (int64_t file = 0; file < plan_.sizes.order_files; ++file) {
      const int64_t first = RangeStart(n, plan_.sizes.order_files, file);
      const int64_t rows = RangeStart(n, plan_.sizes.order_files, file + 1) - first;
      const int64_t groups =
          std::max<int64_t>(1, (rows + kTargetRowGroupRows - 1) / kTargetRowGroupRows);
      for (int64_t g = 0; g < groups; ++g)
        starts_.push_back(first + RangeStart(rows, groups, g));
    }
    starts_.push_back(n);
  }
  int64_t count() const override { return plan_.sizes.orders; }
  int64_t chunks_per_round() const override {
    return static_cast<int64_t>(starts_.size()) - 1;
  }
  int64_t ChunkStart(int64_t c) const override {
    const int64_t per = chunks_per_round();
    return c / per * count() + starts_[c % per];
  }

  Result<std::shared_ptr<arrow::RecordBatch>> Chunk(int64_t c) const override {
    const int64_t per = chunks_per_round();
    const int64_t round = c / per;
    const int64_t first = starts_[c % per];
    const int64_t rows = starts_[c % per + 1] - first;
    const auto schema = OrdersSchema();
    ARROW_ASSIGN_OR_RAISE(auto batch, GenerateOrders(plan_, model_, schema, first, rows));
    if (round == 0) return batch;
    // order_id (column 0) and order_ts (column 6) in the later round.
    std::vector<std::shared_ptr<arrow::Array>> cols = batch->columns();
    for (int col : {0, 6}) {
      const int64_t shift =
          col == 0 ? round * count() : round * kOrderDays * kSecondsPerDay;
      int64_t* values;
      ARROW_ASSIGN_OR_RAISE(auto buf, AllocateValues(rows, &values));
      const int64_t* old = cols[col]->data()->GetValues<int64_t>(1);
      for (int64_t i = 0; i < rows; ++i) values[i] = old[i] + shift;
      cols[col] = MakeArray(arrow::int64(), rows, {nullptr, std::move(buf)});
    }
    return arrow::RecordBatch::Make(schema, rows, std::move(cols));
  }

 private:
  Plan plan_;
  OrderModel model_;
  std::vector<int64_t> starts_;  // of each chunk of a round, then count()
};

}  // namespace

Result<std::shared_ptr<const EcommerceOrders>> EcommerceOrders::Make(double scale,
                                                                     uint64_t seed) {
  Plan plan;
  ARROW_ASSIGN_OR_RAISE(plan.sizes, EcommerceSizesForScale(scale));
  plan.seed = seed;
  const AliasTable categories(WeightsOf(kCategories));
  auto prices = ProductPrices(plan, categories);
  return std::make_shared<const OrdersOnDemand>(std::move(plan), std::move(prices));
}

std::shared_ptr<arrow::Schema> EcommerceOrders::Schema() { return OrdersSchema(); }

Result<EcommerceSummary> GenerateEcommerce(const EcommerceOptions& options) {
  Plan plan;
  ARROW_ASSIGN_OR_RAISE(plan.sizes, EcommerceSizesForScale(options.scale));
  if (options.out_dir.empty()) {
    return Status::Invalid("ecommerce generator: no output directory given");
  }
  if (!(options.bad_user_fraction >= 0 && options.bad_user_fraction <= 1)) {
    return Status::Invalid(
        "ecommerce generator: bad_user_fraction must be in [0, 1], got ",
        options.bad_user_fraction);
  }
  if (options.threads < 0) {
    return Status::Invalid("ecommerce generator: threads must be >= 0, got ",
                           options.threads);
  }
  plan.seed = options.seed;
  plan.bad_user_fraction = options.bad_user_fraction;
  plan.out_dir = options.out_dir;

  const fs::path orders_dir = plan.out_dir / "orders";
  std::error_code ec;
  fs::create_directories(orders_dir, ec);
  if (ec) {
    return Status::IOError("cannot create directory '", orders_dir.string(),
                           "': ", ec.message());
  }
  RemoveStaleTempFiles(plan.out_dir.string());

  const EcommerceSizes& sizes = plan.sizes;
  ProgressReporter progress(options.progress,
                            sizes.orders + sizes.users + sizes.products);
  const AliasTable categories(WeightsOf(kCategories));
  const OrderModel model(plan, ProductPrices(plan, categories));

  // Tasks: 0 = users.csv, 1 = products.parquet, 2.. = order files. Each task writes one
  // file from its own chunk seeds, so the assignment of tasks to threads is free.
  const int64_t num_tasks = 2 + sizes.order_files;
  const int threads = static_cast<int>(std::min<int64_t>(
      options.threads == 0 ? DefaultThreadCount() : options.threads, num_tasks));
  std::atomic<int64_t> next_task{0};
  std::atomic<bool> cancelled{false};
  int64_t bad_user_rows = 0;
  const fs::path users_path = plan.out_dir / "users.csv";
  const fs::path products_path = plan.out_dir / "products.parquet";

  ARROW_RETURN_NOT_OK(RunWorkers(threads, [&](int) -> Status {
    while (!cancelled.load()) {
      const int64_t task = next_task.fetch_add(1);
      if (task >= num_tasks) break;
      Status st;
      if (task == 0) {
        auto bad = WriteUsers(plan, users_path, &progress, cancelled);
        if (bad.ok()) {
          bad_user_rows = *bad;
        } else {
          st = Annotate(bad.status(), users_path);
        }
      } else if (task == 1) {
        st = WriteProducts(plan, categories, products_path, &progress);
      } else {
        st = WriteOrderFile(plan, model, task - 2, &progress, cancelled);
      }
      if (!st.ok()) {
        // Keep the first real error; the others were told to stop.
        const bool first_failure = !cancelled.exchange(true);
        if (first_failure || !st.IsCancelled()) return st;
        return Status::OK();
      }
    }
    return Status::OK();
  }));
  RemoveExtraOrderFiles(orders_dir, sizes.order_files);

  EcommerceSummary summary;
  summary.orders = sizes.orders;
  summary.users = sizes.users;
  summary.bad_user_rows = bad_user_rows;
  summary.products = sizes.products;
  summary.files.push_back(products_path.string());
  summary.files.push_back(users_path.string());
  for (int64_t f = 0; f < sizes.order_files; ++f) {
    summary.files.push_back(OrderFilePath(plan.out_dir, f).string());
  }
  for (const auto& file : summary.files) {
    const auto size = fs::file_size(file, ec);
    if (ec) return Status::IOError("cannot stat '", file, "': ", ec.message());
    summary.bytes_written += static_cast<int64_t>(size);
  }
  return summary;
}

}  // namespace sluice::generator
