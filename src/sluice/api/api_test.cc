// Tests of the public C++ API. Expected answers are computed here with plain loops
// over the input data, and Frame queries are checked against the same query in SQL.
#include "sluice/api/api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <variant>

#include "sluice/testing/temp_dir.h"

namespace sluice {
namespace {

// ---- Rows as plain values ---------------------------------------------------------

using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;
using Row = std::vector<Value>;

Value ToValue(const arrow::Scalar& s) {
  if (!s.is_valid) return std::monostate{};
  switch (s.type->id()) {
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanScalar&>(s).value;
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
      return static_cast<const arrow::Int64Scalar&>(
                 *s.CastTo(arrow::int64()).ValueOrDie())
          .value;
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL128:
      return static_cast<const arrow::DoubleScalar&>(
                 *s.CastTo(arrow::float64()).ValueOrDie())
          .value;
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
      return std::string(static_cast<const arrow::BaseBinaryScalar&>(s).view());
    default:
      return s.ToString();
  }
}

std::vector<Row> Rows(const arrow::Table& table) {
  std::vector<Row> rows(table.num_rows());
  for (int c = 0; c < table.num_columns(); ++c) {
    for (int64_t r = 0; r < table.num_rows(); ++r) {
      rows[r].push_back(ToValue(*table.column(c)->GetScalar(r).ValueOrDie()));
    }
  }
  return rows;
}

std::string ToString(const Value& v) {
  struct {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return std::to_string(d); }
    std::string operator()(const std::string& s) const { return "'" + s + "'"; }
  } visit;
  return std::visit(visit, v);
}

std::string ToString(const Row& row) {
  std::string out = "(";
  for (size_t i = 0; i < row.size(); ++i) out += (i ? ", " : "") + ToString(row[i]);
  return out + ")";
}

bool Near(const Value& a, const Value& b) {
  if (std::holds_alternative<double>(a) && std::holds_alternative<double>(b)) {
    double x = std::get<double>(a);
    double y = std::get<double>(b);
    return std::abs(x - y) <= 1e-9 * std::max({1.0, std::abs(x), std::abs(y)});
  }
  return a == b;
}

// Compares rows (in order unless `any_order`), with a tolerance for doubles.
void ExpectRows(std::vector<Row> expected, std::vector<Row> actual,
                bool any_order = true) {
  if (any_order) {
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
  }
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    bool same = expected[i].size() == actual[i].size();
    for (size_t c = 0; same && c < expected[i].size(); ++c)
      same = Near(expected[i][c], actual[i][c]);
    ASSERT_TRUE(same) << "row " << i << ": expected " << ToString(expected[i]) << ", got "
                      << ToString(actual[i]);
  }
}

// Same column names, types and rows.
void ExpectSameTable(const arrow::Table& expected, const arrow::Table& actual,
                     bool any_order = true) {
  ASSERT_EQ(expected.num_columns(), actual.num_columns())
      << expected.schema()->ToString() << "\nvs\n"
      << actual.schema()->ToString();
  for (int c = 0; c < expected.num_columns(); ++c) {
    EXPECT_EQ(expected.schema()->field(c)->name(), actual.schema()->field(c)->name());
    EXPECT_TRUE(
        expected.schema()->field(c)->type()->Equals(*actual.schema()->field(c)->type()))
        << expected.schema()->field(c)->ToString() << " vs "
        << actual.schema()->field(c)->ToString();
  }
  ExpectRows(Rows(expected), Rows(actual), any_order);
}

std::vector<std::string> Names(const arrow::Schema& schema) {
  std::vector<std::string> out;
  for (const auto& f : schema.fields()) out.push_back(f->name());
  return out;
}

#define ASSERT_OK_AND_ASSIGN_API(lhs, rexpr)               \
  auto lhs##_result = (rexpr);                             \
  ASSERT_TRUE(lhs##_result.ok()) << lhs##_result.status(); \
  auto lhs = std::move(*lhs##_result)

// ---- Test data --------------------------------------------------------------------

struct Orders {
  std::vector<int64_t> id;
  std::vector<std::optional<std::string>> customer;
  std::vector<std::optional<double>> amount;
  std::vector<int32_t> qty;
  std::vector<std::string> status;
  std::shared_ptr<arrow::Table> table;

  size_t size() const { return id.size(); }
};

// Deterministic pseudo-random orders, in chunks of 97 rows (several batches).
Orders MakeOrders(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  Orders o;
  const char* statuses[] = {"completed", "completed", "completed", "pending",
                            "cancelled"};
  arrow::Int64Builder id;
  arrow::StringBuilder customer;
  arrow::DoubleBuilder amount;
  arrow::Int32Builder qty;
  arrow::StringBuilder status;
  for (int i = 0; i < n; ++i) {
    o.id.push_back(i + 1);
    EXPECT_TRUE(id.Append(i + 1).ok());
    uint32_t c = rng() % 8;  // c0..c6, or NULL
    if (c == 7) {
      o.customer.push_back(std::nullopt);
      EXPECT_TRUE(customer.AppendNull().ok());
    } else {
      o.customer.push_back("c" + std::to_string(c));
      EXPECT_TRUE(customer.Append(*o.customer.back()).ok());
    }
    if (rng() % 10 == 0) {
      o.amount.push_back(std::nullopt);
      EXPECT_TRUE(amount.AppendNull().ok());
    } else {
      o.amount.push_back(static_cast<double>(rng() % 80000) / 4.0);  // exact in binary
      EXPECT_TRUE(amount.Append(*o.amount.back()).ok());
    }
    o.qty.push_back(static_cast<int32_t>(1 + rng() % 5));
    EXPECT_TRUE(qty.Append(o.qty.back()).ok());
    o.status.push_back(statuses[rng() % 5]);
    EXPECT_TRUE(status.Append(o.status.back()).ok());
  }
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("customer", arrow::utf8()),
       arrow::field("amount", arrow::float64()), arrow::field("qty", arrow::int32()),
       arrow::field("status", arrow::utf8())});
  auto batch =
      arrow::RecordBatch::Make(schema, n,
                               {id.Finish().ValueOrDie(), customer.Finish().ValueOrDie(),
                                amount.Finish().ValueOrDie(), qty.Finish().ValueOrDie(),
                                status.Finish().ValueOrDie()});
  std::vector<std::shared_ptr<arrow::RecordBatch>> chunks;
  for (int64_t off = 0; off < n; off += 97) chunks.push_back(batch->Slice(off, 97));
  o.table = arrow::Table::FromRecordBatches(schema, chunks).ValueOrDie();
  return o;
}

// Customers c0..c4 and c9 (c5, c6 have orders but no customer row; c9 has no orders).
struct Customers {
  std::vector<std::string> customer = {"c0", "c1", "c2", "c3", "c4", "c9"};
  std::vector<std::string> region = {"north", "south", "north", "east", "west", "east"};
  std::shared_ptr<arrow::Table> table;
};

Customers MakeCustomers() {
  Customers c;
  arrow::StringBuilder name;
  arrow::StringBuilder region;
  EXPECT_TRUE(name.AppendValues(c.customer).ok());
  EXPECT_TRUE(region.AppendValues(c.region).ok());
  c.table =
      arrow::Table::Make(arrow::schema({arrow::field("customer", arrow::utf8()),
                                        arrow::field("region", arrow::utf8())}),
                         {name.Finish().ValueOrDie(), region.Finish().ValueOrDie()});
  return c;
}

Value Opt(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value(std::monostate{});
}
Value Opt(const std::optional<double>& d) {
  return d ? Value(*d) : Value(std::monostate{});
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Small batches and several threads: results must not depend on either.
    auto s = Session::Make({.threads = 4, .memory_limit = 0, .batch_rows = 64});
    ASSERT_TRUE(s.ok()) << s.status();
    session_ = *s;
    orders_ = MakeOrders(1500, 7);
    customers_ = MakeCustomers();
    orders_frame_ = session_->from_arrow(orders_.table, "orders");
    customers_frame_ = session_->from_arrow(customers_.table, "customers");
    ASSERT_TRUE(session_->Register("orders", orders_frame_).ok());
    ASSERT_TRUE(session_->Register("customers", customers_frame_).ok());
  }

  std::vector<Row> Collect(const Frame& f) {
    auto t = f.collect();
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return {};
    return Rows(**t);
  }

  // The same query through the Frame API and SQL gives the same table.
  void ExpectSameAsSql(const Frame& frame, const std::string& query,
                       bool any_order = true) {
    auto a = frame.collect();
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = session_->sql(query).collect();
    ASSERT_TRUE(b.ok()) << b.status();
    ExpectSameTable(**b, **a, any_order);
  }

  std::shared_ptr<Session> session_;
  Orders orders_;
  Customers customers_;
  Frame orders_frame_;
  Frame customers_frame_;
};

// ---- Transformations --------------------------------------------------------------

TEST_F(ApiTest, FilterSelectWithColumns) {
  auto f = orders_frame_.filter(col("amount") > 100 && col("status") == "completed")
               .with_columns({(col("amount") * col("qty")).alias("total")})
               .select({"id", "total", col("qty") % 2 == 0});
  ASSERT_OK_AND_ASSIGN_API(schema, f.schema());
  EXPECT_EQ(Names(*schema), (std::vector<std::string>{"id", "total", "((qty % 2) = 0)"}));
  std::vector<Row> expected;
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (orders_.amount[i] && *orders_.amount[i] > 100 &&
        orders_.status[i] == "completed") {
      expected.push_back(
          {orders_.id[i], *orders_.amount[i] * orders_.qty[i], orders_.qty[i] % 2 == 0});
    }
  }
  ASSERT_FALSE(expected.empty());
  ExpectRows(expected, Collect(f));
}

TEST_F(ApiTest, WithColumnsReplacesInPlaceAndDropRename) {
  auto f =
      orders_frame_
          .with_columns({(col("qty") + 10).alias("qty"), (1 - col("qty")).alias("neg")})
          .drop({"customer", "amount"})
          .rename({{"status", "state"}});
  ASSERT_OK_AND_ASSIGN_API(schema, f.schema());
  EXPECT_EQ(Names(*schema), (std::vector<std::string>{"id", "qty", "state", "neg"}));
  std::vector<Row> expected;
  for (size_t i = 0; i < orders_.size(); ++i) {
    expected.push_back({orders_.id[i], int64_t{orders_.qty[i] + 10}, orders_.status[i],
                        int64_t{1 - orders_.qty[i]}});
  }
  ExpectRows(expected, Collect(f));
}

TEST_F(ApiTest, ScalarFunctions) {
  auto f = orders_frame_.select(
      {"id",
       when(col("amount") > 15000)
           .then("high")
           .when(col("amount") > 5000)
           .then("mid")
           .otherwise("low")
           .alias("band"),
       coalesce({"customer", lit("none")}).alias("who"), upper("status").alias("up"),
       length("status").alias("len"), substr("status", 2, 3).alias("sub"),
       col("status").isin({"pending", "cancelled"}).alias("open"),
       col("qty").between(2, 3).alias("mid_qty"), col("status").like("c%d").alias("like"),
       col("customer").is_null().alias("no_customer"),
       round(col("amount") / 3, 2).alias("third"),
       col("qty").cast("double").alias("qty_d"), (-col("qty")).alias("neg"),
       (!(col("qty") > 2)).alias("small")});
  std::vector<Row> expected;
  for (size_t i = 0; i < orders_.size(); ++i) {
    const auto& a = orders_.amount[i];
    const std::string& s = orders_.status[i];
    std::string band = a && *a > 15000 ? "high" : a && *a > 5000 ? "mid" : "low";
    std::string up = s;
    for (auto& ch : up) ch = static_cast<char>(std::toupper(ch));
    Value third = std::monostate{};
    if (a) third = std::round(*a / 3 * 100) / 100;
    expected.push_back(
        {orders_.id[i], band, orders_.customer[i].value_or("none"), up,
         static_cast<int64_t>(s.size()), s.substr(1, 3),
         s == "pending" || s == "cancelled", orders_.qty[i] >= 2 && orders_.qty[i] <= 3,
         s.front() == 'c' && s.back() == 'd', !orders_.customer[i].has_value(), third,
         static_cast<double>(orders_.qty[i]), int64_t{-orders_.qty[i]},
         !(orders_.qty[i] > 2)});
  }
  ExpectRows(expected, Collect(f));
}

TEST_F(ApiTest, CutBinsNumbers) {
  auto f = orders_frame_.filter(col("amount").is_not_null())
               .select({"id", cut("amount", {0, 1000, 10000, 20000},
                                  {"small", "medium", "large"})
                                  .alias("size")});
  std::vector<Row> expected;
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (!orders_.amount[i]) continue;
    double a = *orders_.amount[i];
    Value v = a <= 0       ? Value(std::monostate{})
              : a <= 1000  ? Value("small")
              : a <= 10000 ? Value("medium")
                           : Value("large");
    expected.push_back({orders_.id[i], v});
  }
  ExpectRows(expected, Collect(f));
}

TEST_F(ApiTest, GroupByAggregates) {
  auto f = orders_frame_.group_by({"customer"})
               .agg({sum("amount").alias("total"), count().alias("n"),
                     count("amount").alias("n_amount"), min("qty"),
                     max("amount").alias("max_amount"), avg("qty").alias("avg_qty"),
                     count_distinct("status").alias("statuses"),
                     round(sum("amount") / count(), 2).alias("per_order"),
                     bool_or(col("qty") == 5).alias("any5")});
  ASSERT_OK_AND_ASSIGN_API(schema, f.schema());
  EXPECT_EQ(Names(*schema),
            (std::vector<std::string>{"customer", "total", "n", "n_amount", "min(qty)",
                                      "max_amount", "avg_qty", "statuses", "per_order",
                                      "any5"}));
  struct Acc {
    double total = 0;
    bool any_amount = false;
    int64_t n = 0, n_amount = 0, qty_sum = 0;
    int64_t min_qty = 1 << 30;
    double max_amount = -1;
    std::set<std::string> statuses;
    bool any5 = false;
  };
  std::map<std::optional<std::string>, Acc> groups;
  for (size_t i = 0; i < orders_.size(); ++i) {
    Acc& g = groups[orders_.customer[i]];
    g.n++;
    g.qty_sum += orders_.qty[i];
    g.min_qty = std::min<int64_t>(g.min_qty, orders_.qty[i]);
    g.statuses.insert(orders_.status[i]);
    g.any5 = g.any5 || orders_.qty[i] == 5;
    if (orders_.amount[i]) {
      g.total += *orders_.amount[i];
      g.any_amount = true;
      g.n_amount++;
      g.max_amount = std::max(g.max_amount, *orders_.amount[i]);
    }
  }
  std::vector<Row> expected;
  for (const auto& [key, g] : groups) {
    Value total = g.any_amount ? Value(g.total) : Value(std::monostate{});
    Value per = g.any_amount
                    ? Value(std::round(g.total / static_cast<double>(g.n) * 100) / 100)
                    : Value(std::monostate{});
    expected.push_back({Opt(key), total, g.n, g.n_amount, g.min_qty,
                        g.any_amount ? Value(g.max_amount) : Value(std::monostate{}),
                        static_cast<double>(g.qty_sum) / static_cast<double>(g.n),
                        static_cast<int64_t>(g.statuses.size()), per, g.any5});
  }
  ExpectRows(expected, Collect(f));
}

TEST_F(ApiTest, StatisticalAggregates) {
  auto f = orders_frame_.filter(col("amount").is_not_null())
               .group_by({"status"})
               .agg({median("amount").alias("med"), quantile("amount", 0.9).alias("p90"),
                     stddev("amount").alias("sd"), variance("amount").alias("var"),
                     string_agg(col("id").cast("varchar"), "|").alias("ids")});
  std::map<std::string, std::vector<double>> values;
  std::map<std::string, std::multiset<std::string>> ids;
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (!orders_.amount[i]) continue;
    values[orders_.status[i]].push_back(*orders_.amount[i]);
    ids[orders_.status[i]].insert(std::to_string(orders_.id[i]));
  }
  auto quantile_of = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    double pos = q * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  std::vector<Row> expected;
  for (const auto& [status, v] : values) {
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    double var = ss / static_cast<double>(v.size() - 1);
    expected.push_back({status, quantile_of(v, 0.5), quantile_of(v, 0.9), std::sqrt(var),
                        var, std::string()});
  }
  auto actual = Collect(f);
  // string_agg's order is unspecified: compare its parts as a set.
  for (auto& row : actual) {
    std::string joined = std::get<std::string>(row[5]);
    std::multiset<std::string> parts;
    size_t start = 0;
    for (size_t bar; (bar = joined.find('|', start)) != std::string::npos;
         start = bar + 1) {
      parts.insert(joined.substr(start, bar - start));
    }
    parts.insert(joined.substr(start));
    EXPECT_EQ(parts, ids[std::get<std::string>(row[0])]);
    row[5] = std::string();
  }
  ExpectRows(expected, actual);
}

TEST_F(ApiTest, GlobalAggregateAndCount) {
  auto f = orders_frame_.select({sum("qty").alias("q"), count_star().alias("n")});
  int64_t qty = 0;
  for (auto q : orders_.qty) qty += q;
  ExpectRows({{qty, static_cast<int64_t>(orders_.size())}}, Collect(f));
  auto n = orders_frame_.filter(col("qty") > 3).count();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, std::count_if(orders_.qty.begin(), orders_.qty.end(),
                              [](int32_t q) { return q > 3; }));
}

TEST_F(ApiTest, JoinOnColumnNames) {
  std::map<std::string, std::string> region;
  for (size_t i = 0; i < customers_.customer.size(); ++i)
    region[customers_.customer[i]] = customers_.region[i];
  for (JoinType how :
       {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kFull}) {
    SCOPED_TRACE(plan::JoinTypeName(how));
    auto f = orders_frame_.select({"id", "customer", "qty"})
                 .join(customers_frame_, {"customer"}, how);
    ASSERT_OK_AND_ASSIGN_API(schema, f.schema());
    EXPECT_EQ(Names(*schema),
              (std::vector<std::string>{"id", "customer", "qty", "region"}));
    std::vector<Row> expected;
    std::set<std::string> matched;
    for (size_t i = 0; i < orders_.size(); ++i) {
      const auto& c = orders_.customer[i];
      bool hit = c && region.count(*c);
      if (hit) matched.insert(*c);
      if (hit) {
        expected.push_back({orders_.id[i], *c, int64_t{orders_.qty[i]}, region[*c]});
      } else if (how == JoinType::kLeft || how == JoinType::kFull) {
        expected.push_back(
            {orders_.id[i], Opt(c), int64_t{orders_.qty[i]}, std::monostate{}});
      }
    }
    if (how == JoinType::kRight || how == JoinType::kFull) {
      for (size_t k = 0; k < customers_.customer.size(); ++k) {
        if (!matched.count(customers_.customer[k])) {
          expected.push_back({std::monostate{}, customers_.customer[k], std::monostate{},
                              customers_.region[k]});
        }
      }
    }
    ExpectRows(expected, Collect(f));
  }
}

TEST_F(ApiTest, SemiAndAntiJoins) {
  std::set<std::string> known(customers_.customer.begin(), customers_.customer.end());
  for (JoinType how : {JoinType::kSemi, JoinType::kAnti}) {
    auto f = orders_frame_.join(customers_frame_, {"customer"}, how).select({"id"});
    std::vector<Row> expected;
    for (size_t i = 0; i < orders_.size(); ++i) {
      bool hit = orders_.customer[i] && known.count(*orders_.customer[i]);
      if (hit == (how == JoinType::kSemi)) expected.push_back({orders_.id[i]});
    }
    ExpectRows(expected, Collect(f));
  }
}

TEST_F(ApiTest, JoinOnExpressionsWithConditionAndClashingNames) {
  // Self-join: order i with the orders of the same customer that have a larger amount.
  auto small = orders_frame_.filter(col("id") <= 120);
  auto f = small.join(small, {col("customer")}, {col("customer")}, JoinType::kInner,
                      col("amount_right") > col("amount"));
  ASSERT_OK_AND_ASSIGN_API(schema, f.schema());
  EXPECT_EQ(Names(*schema),
            (std::vector<std::string>{"id", "customer", "amount", "qty", "status",
                                      "id_right", "customer_right", "amount_right",
                                      "qty_right", "status_right"}));
  std::vector<Row> expected;
  for (size_t i = 0; i < 120; ++i) {
    for (size_t j = 0; j < 120; ++j) {
      if (orders_.customer[i] && orders_.customer[i] == orders_.customer[j] &&
          orders_.amount[i] && orders_.amount[j] &&
          *orders_.amount[j] > *orders_.amount[i]) {
        expected.push_back({orders_.id[i], orders_.id[j]});
      }
    }
  }
  ASSERT_FALSE(expected.empty());
  ExpectRows(expected, Collect(f.select({"id", "id_right"})));
}

TEST_F(ApiTest, SortAndLimit) {
  auto f = orders_frame_.sort({col("amount").desc(), "id"})
               .limit(25, 10)
               .select({"id", "amount"});
  std::vector<size_t> idx(orders_.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  // Descending puts NULLs first (PostgreSQL's default); ties by id.
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const auto& x = orders_.amount[a];
    const auto& y = orders_.amount[b];
    if (x.has_value() != y.has_value()) return !x.has_value();
    if (x && *x != *y) return *x > *y;
    return orders_.id[a] < orders_.id[b];
  });
  std::vector<Row> expected;
  for (size_t k = 10; k < 35; ++k)
    expected.push_back({orders_.id[idx[k]], Opt(orders_.amount[idx[k]])});
  ExpectRows(expected, Collect(f), /*any_order=*/false);

  auto nulls_last =
      orders_frame_.sort({col("amount").desc().nulls_last(), col("id").asc()}).limit(3);
  auto rows = Collect(nulls_last.select({"amount"}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(std::holds_alternative<std::monostate>(rows[0][0]));
}

TEST_F(ApiTest, DistinctAndUnion) {
  std::set<std::string> statuses(orders_.status.begin(), orders_.status.end());
  std::vector<Row> expected;
  for (const auto& s : statuses) expected.push_back({s});
  ExpectRows(expected, Collect(orders_frame_.select({"status"}).distinct()));

  auto a = orders_frame_.filter(col("qty") >= 4).select({"customer", "qty"});
  auto b = orders_frame_.filter(col("qty") <= 1).select({"customer", "qty"});
  std::vector<Row> all;
  std::set<Row> unique;
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (orders_.qty[i] >= 4)
      all.push_back({Opt(orders_.customer[i]), int64_t{orders_.qty[i]}});
  }
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (orders_.qty[i] <= 1)
      all.push_back({Opt(orders_.customer[i]), int64_t{orders_.qty[i]}});
  }
  for (const auto& r : all) unique.insert(r);
  ExpectRows(all, Collect(a.union_all(b)));
  ExpectRows(std::vector<Row>(unique.begin(), unique.end()),
             Collect(a.union_distinct(b)));
  ExpectRows(std::vector<Row>(unique.begin(), unique.end()),
             Collect(a.union_(b, /*all=*/false)));
}

TEST_F(ApiTest, FramesAreImmutableAndReusable) {
  auto base = orders_frame_.filter(col("qty") > 2);
  auto left = base.select({"id"});
  auto right = base.select({"id", "qty"});
  auto joined = left.join(right, {"id"});
  auto n = base.count();
  ASSERT_TRUE(n.ok());
  auto rows = Collect(joined);
  EXPECT_EQ(static_cast<int64_t>(rows.size()), *n);
  // Running again gives the same answer.
  EXPECT_EQ(static_cast<int64_t>(Collect(joined).size()), *n);
}

// ---- Frame API vs SQL -------------------------------------------------------------

TEST_F(ApiTest, FrameMatchesSql) {
  ExpectSameAsSql(orders_frame_.filter(col("status") == "completed")
                      .group_by({"customer"})
                      .agg({sum("amount").alias("total"), count().alias("n"),
                            round(avg("amount"), 2).alias("avg_amount")}),
                  "SELECT customer, sum(amount) AS total, count(*) AS n, "
                  "round(avg(amount), 2) AS avg_amount "
                  "FROM orders WHERE status = 'completed' GROUP BY customer");
  ExpectSameAsSql(orders_frame_.join(customers_frame_, {"customer"})
                      .filter(col("amount") > 10000)
                      .select({"id", "amount", "region"}),
                  "SELECT id, amount, region FROM orders JOIN customers USING (customer) "
                  "WHERE amount > 10000");
  ExpectSameAsSql(orders_frame_.join(customers_frame_, {"customer"}, JoinType::kLeft)
                      .group_by({coalesce({"region", lit("unknown")}).alias("region")})
                      .agg({count().alias("orders"), sum("qty").alias("items")})
                      .sort({col("orders").desc(), "region"}),
                  "SELECT coalesce(region, 'unknown') AS region, count(*) AS orders, "
                  "sum(qty) AS items "
                  "FROM orders LEFT JOIN customers USING (customer) GROUP BY "
                  "coalesce(region, 'unknown') "
                  "ORDER BY orders DESC, region",
                  /*any_order=*/false);
  ExpectSameAsSql(
      orders_frame_
          .select(
              {"id",
               when(col("amount") > 100).then("big").otherwise("small").alias("band")})
          .sort({"id"})
          .limit(50),
      "SELECT id, CASE WHEN amount > 100 THEN 'big' ELSE 'small' END AS band FROM orders "
      "ORDER BY id LIMIT 50",
      /*any_order=*/false);
  ExpectSameAsSql(orders_frame_.select({"status"}).distinct(),
                  "SELECT DISTINCT status FROM orders");
  ExpectSameAsSql(orders_frame_.union_all(orders_frame_.filter(col("qty") > 3)),
                  "SELECT * FROM orders UNION ALL SELECT * FROM orders WHERE qty > 3");
  ExpectSameAsSql(
      orders_frame_.select({star(), (col("amount") * col("qty")).alias("value")})
          .filter(col("customer").isin({"c1", "c2"}) &&
                  col("value").between(1000, 50000)),
      "SELECT *, amount * qty AS value FROM orders "
      "WHERE customer IN ('c1', 'c2') AND amount * qty BETWEEN 1000 AND 50000");
}

TEST_F(ApiTest, SqlOverFramesCanBeTransformedFurther) {
  auto big = orders_frame_.filter(col("amount") > 15000);
  ASSERT_TRUE(session_->Register("big", big).ok());
  auto f = session_->sql("SELECT customer, count(*) AS n FROM big GROUP BY customer")
               .filter(col("n") > 10);
  std::map<std::optional<std::string>, int64_t> n;
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (orders_.amount[i] && *orders_.amount[i] > 15000) n[orders_.customer[i]]++;
  }
  std::vector<Row> expected;
  for (const auto& [c, k] : n) {
    if (k > 10) expected.push_back({Opt(c), k});
  }
  ExpectRows(expected, Collect(f));
}

// ---- Files ------------------------------------------------------------------------

TEST_F(ApiTest, CsvWithRejectsAndFileRoundTrips) {
  testing::TempDir dir;
  std::string csv = "id,customer,amount,qty,status\n";
  std::vector<Row> expected;
  for (size_t i = 0; i < orders_.size(); ++i) {
    char amount[64] = "";
    if (orders_.amount[i])
      std::snprintf(amount, sizeof(amount), "%.2f", *orders_.amount[i]);
    csv += std::to_string(orders_.id[i]) + "," + orders_.customer[i].value_or("") + "," +
           amount + "," + std::to_string(orders_.qty[i]) + "," + orders_.status[i] + "\n";
    expected.push_back({orders_.id[i], Opt(orders_.customer[i]), Opt(orders_.amount[i]),
                        int64_t{orders_.qty[i]}, orders_.status[i]});
    if (i == 500) csv += "not-a-number,c1,1.00,1,completed\n";
  }
  testing::WriteFile(dir.Join("orders.csv"), csv);

  CsvReadOptions options;
  options.columns = {{"id", "bigint"},
                     {"customer", "varchar"},
                     {"amount", "double"},
                     {"qty", "int"},
                     {"status", "varchar"}};
  options.on_error = OnError::kReject;
  options.rejects = dir.Join("orders.rejects.jsonl");
  auto csv_frame = session_->read_csv(dir.Join("orders.csv"), options);
  ASSERT_TRUE(csv_frame.ok()) << csv_frame.status();
  ExpectRows(expected, Collect(csv_frame));
  auto inputs = session_->inputs();
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].rows_read, static_cast<int64_t>(orders_.size()) + 1);
  EXPECT_EQ(inputs[0].rows_rejected, 1);
  std::string rejects = testing::ReadFile(dir.Join("orders.rejects.jsonl"));
  EXPECT_NE(rejects.find("not-a-number"), std::string::npos) << rejects;

  // Parquet, CSV, JSON and Arrow files written by a frame read back the same.
  struct Format {
    const char* name;
    std::function<Result<int64_t>(const Frame&, const std::string&)> write;
    std::function<Frame(const std::string&)> read;
  };
  std::vector<Format> formats = {
      {"parquet", [](const Frame& f, const std::string& p) { return f.write_parquet(p); },
       [&](const std::string& p) { return session_->read_parquet(p); }},
      {"csv", [](const Frame& f, const std::string& p) { return f.write_csv(p); },
       [&](const std::string& p) { return session_->read_csv(p); }},
      {"json", [](const Frame& f, const std::string& p) { return f.write_json(p); },
       [&](const std::string& p) { return session_->read_json(p); }},
      {"arrow", [](const Frame& f, const std::string& p) { return f.write_arrow(p); },
       [&](const std::string& p) { return session_->read_arrow(p); }},
  };
  for (const auto& format : formats) {
    SCOPED_TRACE(format.name);
    std::string path = dir.Join(std::string("copy.") + format.name);
    auto written = format.write(csv_frame, path);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(*written, static_cast<int64_t>(orders_.size()));
    ExpectRows(expected, Collect(format.read(path)));
  }

  // Hive-partitioned output read back as a directory; SQL table functions see files too.
  WriteOptions partitioned;
  partitioned.partition_by = {"status"};
  auto written = csv_frame.write_parquet(dir.Join("parts/"), partitioned);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(std::filesystem::exists(dir.Join("parts/status=completed")));
  ExpectRows(expected,
             Collect(session_->read_parquet(dir.Join("parts"))
                         .select({"id", "customer", "amount", "qty", "status"})));
  auto counted = session_->sql("SELECT status, count(*) AS n FROM read_parquet('" +
                               dir.Join("copy.parquet") + "') GROUP BY status");
  std::map<std::string, int64_t> by_status;
  for (const auto& s : orders_.status) by_status[s]++;
  std::vector<Row> expected_counts;
  for (const auto& [s, k] : by_status) expected_counts.push_back({s, k});
  ExpectRows(expected_counts, Collect(counted));
}

// ---- Errors -----------------------------------------------------------------------

std::string ErrorOf(const Frame& f) {
  auto t = f.collect();
  return t.ok() ? "OK" : t.status().ToString();
}

TEST_F(ApiTest, UnknownColumnsAreNamed) {
  auto bad = orders_frame_.select({"id", "nope"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown column 'nope'"), std::string::npos)
      << bad.status();
  EXPECT_NE(bad.status().message().find("customer"), std::string::npos)
      << "lists the columns";
  // The error passes through later steps to the action.
  std::string chained =
      ErrorOf(orders_frame_.filter(col("amout") > 1).select({"id"}).sort({"id"}));
  EXPECT_NE(chained.find("unknown column 'amout'"), std::string::npos) << chained;
  EXPECT_NE(ErrorOf(orders_frame_.group_by({"cust"}).agg({count()})).find("'cust'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(orders_frame_.join(customers_frame_, {"region"}))
                .find("unknown column 'region'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(orders_frame_.drop({"zzz"})).find("unknown column 'zzz'"),
            std::string::npos);
  auto write =
      orders_frame_.select({"missing"}).write_parquet("/nonexistent/never.parquet");
  EXPECT_FALSE(write.ok());
  EXPECT_NE(write.status().message().find("missing"), std::string::npos);
  EXPECT_FALSE(orders_frame_.select({"missing"}).schema().ok());
}

TEST_F(ApiTest, TypeErrors) {
  auto not_bool = orders_frame_.filter(col("amount") + 1);
  EXPECT_TRUE(not_bool.status().IsTypeError()) << not_bool.status();
  EXPECT_NE(not_bool.status().message().find("boolean"), std::string::npos);
  EXPECT_FALSE(orders_frame_.select({col("status") + 1}).ok());
  std::string sum_text =
      ErrorOf(orders_frame_.group_by({"customer"}).agg({sum("status")}));
  EXPECT_NE(sum_text.find("numeric"), std::string::npos) << sum_text;
  EXPECT_NE(ErrorOf(orders_frame_.select({col("qty").cast("notatype")})).find("notatype"),
            std::string::npos);
  std::string not_key =
      ErrorOf(orders_frame_.group_by({"customer"}).agg({col("qty") + sum("amount")}));
  EXPECT_NE(not_key.find("'qty' must be a group_by key"), std::string::npos) << not_key;
  EXPECT_NE(
      ErrorOf(orders_frame_.select({quantile("amount", 1.5)})).find("between 0 and 1"),
      std::string::npos);
  EXPECT_NE(ErrorOf(orders_frame_.with_columns({sum("qty")})).find("group_by"),
            std::string::npos);
  EXPECT_NE(ErrorOf(orders_frame_.union_all(customers_frame_)).find("number"),
            std::string::npos);
}

TEST_F(ApiTest, OtherErrors) {
  EXPECT_FALSE(Session::Make({.threads = -1}).ok());
  EXPECT_FALSE(session_->read_csv("/nonexistent/orders.csv").ok());
  EXPECT_FALSE(session_->read_parquet("").ok());
  auto sql = session_->sql("SELEC 1");
  EXPECT_FALSE(sql.ok());
  EXPECT_NE(session_->sql("SELECT nope FROM orders").status().message().find("nope"),
            std::string::npos);
  auto other = Session::Make();
  ASSERT_TRUE(other.ok());
  auto foreign = (*other)->from_arrow(customers_.table);
  EXPECT_FALSE(orders_frame_.join(foreign, {"customer"}).ok());
  EXPECT_FALSE(session_->Register("x", foreign).ok());
  EXPECT_FALSE(Frame().ok());
  EXPECT_FALSE(orders_frame_.limit(-1).ok());
}

// ---- Explain and expressions ------------------------------------------------------

TEST_F(ApiTest, Explain) {
  auto f =
      orders_frame_.filter(col("qty") > 2).group_by({"status"}).agg({count().alias("n")});
  auto text = f.explain();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("Logical plan"), std::string::npos);
  EXPECT_NE(text->find("Aggregate"), std::string::npos);
  auto analyzed = f.explain(/*analyze=*/true);
  ASSERT_TRUE(analyzed.ok()) << analyzed.status();
  EXPECT_NE(analyzed->find("Aggregate"), std::string::npos);
  auto printed = f.sort({"status"}).to_string();
  ASSERT_TRUE(printed.ok()) << printed.status();
  EXPECT_NE(printed->find("completed"), std::string::npos);
}

TEST(ExprTest, BuildsTheEngineTree) {
  EXPECT_EQ((col("a") + 1).ToString(), "(a + 1)");
  EXPECT_EQ((2.5 * col("a")).ToString(), "(2.5 * a)");
  EXPECT_EQ((col("s") == "x").ToString(), "(s = 'x')");
  EXPECT_EQ(Expr("s").ToString(), "s");
  EXPECT_EQ(expr::OutputName(sum("x").node()), "sum(x)");
  EXPECT_EQ(expr::OutputName(sum("x").alias("total").alias("t2").node()), "t2");
  EXPECT_EQ((col("a") > 1 && !(col("b") < 2)).ToString(), "((a > 1) and (NOT (b < 2)))");
  EXPECT_EQ(("x" != col("s")).ToString(), "('x' <> s)");
  EXPECT_EQ((5 <= col("a") || col("flag")).ToString(), "((5 <= a) or flag)");
  EXPECT_EQ((col("a") - col("b") / 2 % 3).ToString(), "(a - ((b / 2) % 3))");
  EXPECT_EQ(col("a").isin({1, "x", nullptr}).ToString(), "in(a, 1, 'x', NULL)");
  EXPECT_FALSE(col("a").cast("nonsense").status().ok());
  EXPECT_FALSE((col("a").cast("nonsense") + 1).status().ok()) << "errors propagate";
  SortSpec s = col("a").desc();
  EXPECT_FALSE(s.ascending);
  EXPECT_TRUE(s.effective_nulls_first());
  EXPECT_FALSE(s.nulls_last().effective_nulls_first());
  EXPECT_FALSE(SortSpec("a").effective_nulls_first());
  EXPECT_EQ(lit(int64_t{5}).node()->value->type->id(), arrow::Type::INT64);
  EXPECT_EQ(lit(5).node()->value->type->id(), arrow::Type::INT32);
  EXPECT_EQ(lit(true).node()->value->type->id(), arrow::Type::BOOL);
  EXPECT_EQ(lit("x").node()->value->type->id(), arrow::Type::STRING);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// ---- Jobs ---------------------------------------------------------------------------

TEST(JobTest, AStreamRunsInTheBackgroundUntilStopped) {
  auto s = Session::Make({.threads = 2});
  ASSERT_TRUE(s.ok()) << s.status();
  testing::TempDir dir;
  const std::string out = dir.path() + "/counts/";
  auto job = (*s)->Start(
      "COPY (WITH bid AS (SELECT * FROM nexmark('bid', events => -1, rate => 100000)) "
      "SELECT window_start, count(*) AS n FROM TUMBLE(bid, date_time, INTERVAL '1' "
      "SECOND) "
      "GROUP BY window_start) TO '" +
      out + "' (FORMAT parquet, ROLL_ROWS 2)");
  ASSERT_TRUE(job.ok()) << job.status();
  // The session answers other queries meanwhile.
  auto other = (*s)->sql("SELECT 1 AS one").collect();
  ASSERT_TRUE(other.ok()) << other.status();
  for (int i = 0; i < 300 && (*job)->status().rows_out < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  JobStatus st = (*job)->status();
  EXPECT_TRUE(st.running);
  EXPECT_GE(st.rows_out, 3);
  EXPECT_FALSE((*job)->WaitFor(std::chrono::milliseconds(10)));
  (*job)->Stop();
  auto rows = (*job)->Wait();
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_GE(*rows, 3);
  EXPECT_FALSE((*job)->status().running);
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(out)) {
    files += f.path().extension() == ".parquet" ? 1 : 0;
  }
  EXPECT_EQ(files, (*rows + 1) / 2);
}

TEST(JobTest, StartTakesACopyStatementAndReportsFailures) {
  auto s = Session::Make({.threads = 1});
  ASSERT_TRUE(s.ok());
  auto query = (*s)->Start("SELECT 1");
  ASSERT_FALSE(query.ok());
  EXPECT_NE(query.status().message().find("COPY"), std::string::npos);
  testing::TempDir dir;
  const std::string csv = dir.path() + "/bad.csv";
  testing::WriteFile(csv, "a\n1\nx\n");
  auto job = (*s)->Start("COPY (SELECT * FROM read_csv('" + csv +
                         "', columns => 'a bigint')) TO '" + dir.path() + "/o.parquet'");
  ASSERT_TRUE(job.ok()) << job.status();
  auto rows = (*job)->Wait();
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("bad.csv:3"), std::string::npos)
      << rows.status();
  EXPECT_FALSE((*job)->status().error.empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/o.parquet"));
}

}  // namespace
}  // namespace sluice
