#include "sluice/exec/operators/window.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "sluice/exec/physical_planner.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::exec {
namespace {

using expr::Call;
using expr::Column;
using expr::Literal;
using plan::FrameBound;
using plan::FrameBoundKind;
using plan::FrameUnit;
using plan::SortKey;
using plan::WindowFrame;
using plan::WindowFunction;
using ArrayPtr = std::shared_ptr<arrow::Array>;

// ---- building inputs ------------------------------------------------------------------

template <typename Builder, typename T>
ArrayPtr Build(Builder b, const std::vector<std::optional<T>>& values) {
  for (const auto& v : values) {
    if (v) {
      EXPECT_TRUE(b.Append(*v).ok());
    } else {
      EXPECT_TRUE(b.AppendNull().ok());
    }
  }
  return b.Finish().ValueOrDie();
}

ArrayPtr Ints(const std::vector<std::optional<int64_t>>& v) {
  return Build(arrow::Int64Builder(), v);
}
ArrayPtr Doubles(const std::vector<std::optional<double>>& v) {
  return Build(arrow::DoubleBuilder(), v);
}
ArrayPtr Strings(const std::vector<std::optional<std::string>>& v) {
  return Build(arrow::StringBuilder(), v);
}
ArrayPtr Ids(int64_t n) {
  std::vector<std::optional<int64_t>> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(i);
  return Ints(v);
}

std::shared_ptr<arrow::Table> MakeTable(
    const std::vector<std::pair<std::string, ArrayPtr>>& columns) {
  arrow::FieldVector fields;
  arrow::ArrayVector arrays;
  for (const auto& [name, arr] : columns) {
    fields.push_back(arrow::field(name, arr->type()));
    arrays.push_back(arr);
  }
  return arrow::Table::Make(arrow::schema(fields), arrays);
}

plan::Plan ScanOf(std::shared_ptr<arrow::Table> t) {
  return plan::MakeScan(std::make_shared<InMemoryTable>(t, "t"));
}

FrameBound Unbounded(bool preceding) {
  return FrameBound{preceding ? FrameBoundKind::kUnboundedPreceding
                              : FrameBoundKind::kUnboundedFollowing};
}
FrameBound Current() { return FrameBound{FrameBoundKind::kCurrentRow}; }
FrameBound Preceding(std::shared_ptr<arrow::Scalar> n) {
  return FrameBound{FrameBoundKind::kPreceding, std::move(n)};
}
FrameBound Following(std::shared_ptr<arrow::Scalar> n) {
  return FrameBound{FrameBoundKind::kFollowing, std::move(n)};
}
FrameBound Preceding(int64_t n) { return Preceding(arrow::MakeScalar(n)); }
FrameBound Following(int64_t n) { return Following(arrow::MakeScalar(n)); }

WindowFrame Frame(FrameUnit unit, FrameBound start, FrameBound end) {
  WindowFrame f;
  f.unit = unit;
  f.start = std::move(start);
  f.end = std::move(end);
  f.is_default = false;
  return f;
}
WindowFrame Rows(FrameBound start, FrameBound end) {
  return Frame(FrameUnit::kRows, std::move(start), std::move(end));
}
WindowFrame Range(FrameBound start, FrameBound end) {
  return Frame(FrameUnit::kRange, std::move(start), std::move(end));
}

WindowFunction Fn(std::string name, std::vector<expr::Expr> args, std::string out,
                  WindowFrame frame = WindowFrame{}) {
  WindowFunction f;
  f.name = std::move(name);
  f.args = std::move(args);
  f.output_name = std::move(out);
  f.frame = std::move(frame);
  return f;
}

expr::Expr I64(int64_t v) { return Literal(arrow::MakeScalar(v)); }

SortKey Asc(const std::string& c, bool nulls_first = false) {
  return SortKey{Column(c), true, nulls_first};
}
SortKey Desc(const std::string& c, bool nulls_first = false) {
  return SortKey{Column(c), false, nulls_first};
}

// ---- running and reading results
// -------------------------------------------------------

Result<std::shared_ptr<arrow::Table>> TryRun(const plan::Plan& p, int threads,
                                             int64_t batch_rows = 3,
                                             int64_t memory_limit = -1) {
  plan::AssignIds(p);
  ExecContext ctx(ExecOptions{threads, memory_limit, batch_rows, {}});
  return ExecuteToTable(p, &ctx);
}

std::shared_ptr<arrow::Table> RunPlan(const plan::Plan& p, int threads,
                                      int64_t batch_rows = 3) {
  auto r = TryRun(p, threads, batch_rows);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  auto combined = (*r)->CombineChunks().ValueOrDie();
  return combined;
}

// A result cell: NULL, an integer, a floating point number or text (strings, decimals).
struct Cell {
  enum Kind { kNull, kInt, kDouble, kText } kind = kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;
};
Cell N() { return Cell{}; }
Cell I(int64_t v) { return Cell{Cell::kInt, v, 0, ""}; }
Cell D(double v) { return Cell{Cell::kDouble, 0, v, ""}; }
Cell S(std::string v) { return Cell{Cell::kText, 0, 0, std::move(v)}; }

std::string ToString(const Cell& c) {
  switch (c.kind) {
    case Cell::kNull:
      return "NULL";
    case Cell::kInt:
      return std::to_string(c.i);
    case Cell::kDouble:
      return std::to_string(c.d);
    case Cell::kText:
      return "'" + c.s + "'";
  }
  return "?";
}

bool Same(const Cell& a, const Cell& b) {
  if (a.kind == Cell::kDouble || b.kind == Cell::kDouble) {
    if (a.kind == Cell::kNull || b.kind == Cell::kNull) return a.kind == b.kind;
    double x = a.kind == Cell::kDouble ? a.d : static_cast<double>(a.i);
    double y = b.kind == Cell::kDouble ? b.d : static_cast<double>(b.i);
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    return std::abs(x - y) <= 1e-9 * std::max({1.0, std::abs(x), std::abs(y)});
  }
  return a.kind == b.kind && a.i == b.i && a.s == b.s;
}

Cell CellAt(const arrow::Array& arr, int64_t i) {
  if (arr.IsNull(i)) return N();
  switch (arr.type_id()) {
    case arrow::Type::INT64:
      return I(static_cast<const arrow::Int64Array&>(arr).Value(i));
    case arrow::Type::INT32:
      return I(static_cast<const arrow::Int32Array&>(arr).Value(i));
    case arrow::Type::DATE32:
      return I(static_cast<const arrow::Date32Array&>(arr).Value(i));
    case arrow::Type::TIMESTAMP:
      return I(static_cast<const arrow::TimestampArray&>(arr).Value(i));
    case arrow::Type::DOUBLE:
      return D(static_cast<const arrow::DoubleArray&>(arr).Value(i));
    case arrow::Type::STRING:
      return S(std::string(static_cast<const arrow::StringArray&>(arr).GetView(i)));
    case arrow::Type::DECIMAL128:
      return S(static_cast<const arrow::Decimal128Array&>(arr).FormatValue(i));
    default:
      ADD_FAILURE() << "unexpected type " << arr.type()->ToString();
      return N();
  }
}

// Column `name` of `t`, indexed by the value of its "id" column (0..n-1).
std::vector<Cell> ById(const std::shared_ptr<arrow::Table>& t, const std::string& name) {
  auto id_col = t->GetColumnByName("id");
  auto col = t->GetColumnByName(name);
  EXPECT_TRUE(id_col && col) << name;
  if (!id_col || !col) return {};
  std::vector<Cell> out(t->num_rows());
  const auto& ids = static_cast<const arrow::Int64Array&>(*id_col->chunk(0));
  for (int64_t r = 0; r < t->num_rows(); ++r)
    out[ids.Value(r)] = CellAt(*col->chunk(0), r);
  return out;
}

void ExpectColumn(const std::shared_ptr<arrow::Table>& t, const std::string& name,
                  const std::vector<Cell>& expected) {
  ASSERT_TRUE(t);
  auto got = ById(t, name);
  ASSERT_EQ(got.size(), expected.size()) << name;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(Same(got[i], expected[i]))
        << name << " id=" << i << ": got " << ToString(got[i]) << ", expected "
        << ToString(expected[i]);
  }
}

plan::Plan MustWindow(plan::Plan input, std::vector<expr::Expr> partition_by,
                      std::vector<SortKey> order_by, std::vector<WindowFunction> fns) {
  auto w = plan::MakeWindow(std::move(input), std::move(partition_by),
                            std::move(order_by), std::move(fns));
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ValueOr(nullptr);
}

// ---- functions, frames, peers
// ----------------------------------------------------------

// p: a a a a b b b NULL NULL;  v: 1 2 2 3 5 5 NULL 9 9
std::shared_ptr<arrow::Table> RankingTable() {
  return MakeTable({{"id", Ids(9)},
                    {"p", Strings({"a", "a", "a", "a", "b", "b", "b", {}, {}})},
                    {"v", Ints({1, 2, 2, 3, 5, 5, {}, 9, 9})}});
}

TEST(Window, RankingFunctions) {
  auto w = MustWindow(ScanOf(RankingTable()), {Column("p")}, {Asc("v")},
                      {Fn("row_number", {}, "rn"), Fn("rank", {}, "rk"),
                       Fn("dense_rank", {}, "dr"), Fn("percent_rank", {}, "pr"),
                       Fn("cume_dist", {}, "cd"), Fn("ntile", {I64(3)}, "nt")});
  for (int threads : {1, 4}) {
    auto t = RunPlan(w, threads);
    ExpectColumn(t, "rn", {I(1), I(2), I(3), I(4), I(1), I(2), I(3), I(1), I(2)});
    ExpectColumn(t, "rk", {I(1), I(2), I(2), I(4), I(1), I(1), I(3), I(1), I(1)});
    ExpectColumn(t, "dr", {I(1), I(2), I(2), I(3), I(1), I(1), I(2), I(1), I(1)});
    ExpectColumn(t, "pr",
                 {D(0), D(1.0 / 3), D(1.0 / 3), D(1), D(0), D(0), D(1), D(0), D(0)});
    ExpectColumn(
        t, "cd",
        {D(0.25), D(0.75), D(0.75), D(1), D(2.0 / 3), D(2.0 / 3), D(1), D(1), D(1)});
    // 4 rows in 3 buckets: 2, 1, 1.
    ExpectColumn(t, "nt", {I(1), I(1), I(2), I(3), I(1), I(2), I(3), I(1), I(2)});
    EXPECT_EQ(t->schema()->GetFieldByName("pr")->type()->id(), arrow::Type::DOUBLE);
    EXPECT_EQ(t->schema()->GetFieldByName("rn")->type()->id(), arrow::Type::INT64);
  }
}

TEST(Window, DefaultFrameIncludesPeersAndWholePartitionWithoutOrder) {
  auto input = ScanOf(RankingTable());
  auto ordered =
      MustWindow(input, {Column("p")}, {Asc("v")},
                 {Fn("sum", {Column("v")}, "s"), Fn("count", {Column("v")}, "c"),
                  Fn("count_star", {}, "cs"), Fn("avg", {Column("v")}, "a"),
                  Fn("last_value", {Column("v")}, "lv")});
  auto unordered = MustWindow(input, {Column("p")}, {},
                              {Fn("sum", {Column("v")}, "s"), Fn("count", {}, "cs"),
                               Fn("rank", {}, "rk"), Fn("cume_dist", {}, "cd")});
  for (int threads : {1, 4}) {
    auto t = RunPlan(ordered, threads);
    ExpectColumn(t, "s", {I(1), I(5), I(5), I(8), I(10), I(10), I(10), I(18), I(18)});
    ExpectColumn(t, "c", {I(1), I(3), I(3), I(4), I(2), I(2), I(2), I(2), I(2)});
    ExpectColumn(t, "cs", {I(1), I(3), I(3), I(4), I(2), I(2), I(3), I(2), I(2)});
    ExpectColumn(t, "a",
                 {D(1), D(5.0 / 3), D(5.0 / 3), D(2), D(5), D(5), D(5), D(9), D(9)});
    // The default frame ends at the last peer.
    ExpectColumn(t, "lv", {I(1), I(2), I(2), I(3), I(5), I(5), N(), I(9), I(9)});
    auto u = RunPlan(unordered, threads);
    ExpectColumn(u, "s", {I(8), I(8), I(8), I(8), I(10), I(10), I(10), I(18), I(18)});
    ExpectColumn(u, "cs", {I(4), I(4), I(4), I(4), I(3), I(3), I(3), I(2), I(2)});
    ExpectColumn(u, "rk", {I(1), I(1), I(1), I(1), I(1), I(1), I(1), I(1), I(1)});
    ExpectColumn(u, "cd", {D(1), D(1), D(1), D(1), D(1), D(1), D(1), D(1), D(1)});
  }
}

// x: 1 2 NULL 4 8, in id order.
std::shared_ptr<arrow::Table> RowsTable() {
  return MakeTable({{"id", Ids(5)},
                    {"x", Ints({1, 2, {}, 4, 8})},
                    {"xd", Doubles({1, 2, {}, 4, 8})},
                    {"s", Strings({"b", "a", {}, "d", "c"})}});
}

TEST(Window, RowsFrames) {
  auto around = Rows(Preceding(1), Following(1));
  auto ahead = Rows(Following(2), Following(3));
  auto w = MustWindow(
      ScanOf(RowsTable()), {}, {Asc("id")},
      {Fn("sum", {Column("x")}, "s_around", around),
       Fn("sum", {Column("xd")}, "sd_around", around),
       Fn("avg", {Column("xd")}, "ad_around", around),
       Fn("sum", {Column("x")}, "s_ahead", ahead),
       Fn("sum", {Column("xd")}, "sd_ahead", ahead),
       Fn("count", {Column("x")}, "c_ahead", ahead),
       Fn("count_star", {}, "cs_ahead", ahead),
       Fn("sum", {Column("xd")}, "s_before", Rows(Unbounded(true), Preceding(1))),
       Fn("sum", {Column("xd")}, "s_after", Rows(Current(), Unbounded(false))),
       Fn("sum", {Column("x")}, "s_prev", Rows(Preceding(1), Preceding(1))),
       Fn("first_value", {Column("x")}, "fv", around),
       Fn("last_value", {Column("x")}, "lv", around),
       Fn("nth_value", {Column("x"), I64(2)}, "nv", around),
       Fn("min", {Column("x")}, "mn", around), Fn("max", {Column("x")}, "mx", around),
       Fn("min", {Column("s")}, "smn", around), Fn("max", {Column("s")}, "smx", around),
       Fn("last_value", {Column("x")}, "lv_default")});
  for (int threads : {1, 4}) {
    auto t = RunPlan(w, threads, 2);
    ExpectColumn(t, "s_around", {I(3), I(3), I(6), I(12), I(12)});
    ExpectColumn(t, "sd_around", {D(3), D(3), D(6), D(12), D(12)});
    ExpectColumn(t, "ad_around", {D(1.5), D(1.5), D(3), D(6), D(6)});
    ExpectColumn(t, "s_ahead", {I(4), I(12), I(8), N(), N()});
    ExpectColumn(t, "sd_ahead", {D(4), D(12), D(8), N(), N()});
    ExpectColumn(t, "c_ahead", {I(1), I(2), I(1), I(0), I(0)});
    ExpectColumn(t, "cs_ahead", {I(2), I(2), I(1), I(0), I(0)});
    ExpectColumn(t, "s_before", {N(), D(1), D(3), D(3), D(7)});
    ExpectColumn(t, "s_after", {D(15), D(14), D(12), D(12), D(8)});
    ExpectColumn(t, "s_prev", {N(), I(1), I(2), N(), I(4)});
    ExpectColumn(t, "fv", {I(1), I(1), I(2), N(), I(4)});
    ExpectColumn(t, "lv", {I(2), N(), I(4), I(8), I(8)});
    ExpectColumn(t, "nv", {I(2), I(2), N(), I(4), I(8)});
    ExpectColumn(t, "mn", {I(1), I(1), I(2), I(4), I(4)});
    ExpectColumn(t, "mx", {I(2), I(2), I(4), I(8), I(8)});
    ExpectColumn(t, "smn", {S("a"), S("a"), S("a"), S("c"), S("c")});
    ExpectColumn(t, "smx", {S("b"), S("b"), S("d"), S("d"), S("d")});
    ExpectColumn(t, "lv_default", {I(1), I(2), N(), I(4), I(8)});
  }
}

// v: 1 2 2 5 NULL 8, in id order.
std::shared_ptr<arrow::Table> RangeTable() {
  return MakeTable({{"id", Ids(6)}, {"v", Ints({1, 2, 2, 5, {}, 8})}});
}

TEST(Window, RangeOffsetsWithPeersNullsAndDirections) {
  auto input = ScanOf(RangeTable());
  auto near = Range(Preceding(1), Following(1));
  auto upto2 = Range(Unbounded(true), Preceding(2));
  auto nulls_last = MustWindow(
      input, {}, {Asc("v")},
      {Fn("sum", {Column("v")}, "s", near), Fn("count_star", {}, "c", near),
       Fn("sum", {Column("v")}, "s2", upto2), Fn("count_star", {}, "c2", upto2)});
  auto nulls_first = MustWindow(
      input, {}, {Asc("v", true)},
      {Fn("sum", {Column("v")}, "s2", upto2), Fn("count_star", {}, "c2", upto2)});
  auto desc = MustWindow(input, {}, {Desc("v")},
                         {Fn("sum", {Column("v")}, "s", Range(Preceding(1), Current())),
                          Fn("count_star", {}, "c", Range(Preceding(1), Current()))});
  for (int threads : {1, 4}) {
    auto t = RunPlan(nulls_last, threads);
    ExpectColumn(t, "s", {I(5), I(5), I(5), I(5), N(), I(8)});
    ExpectColumn(t, "c", {I(3), I(3), I(3), I(1), I(1), I(1)});
    // A NULL key's frame ends after its NULL peers (here: the partition's end).
    ExpectColumn(t, "s2", {N(), N(), N(), I(5), I(18), I(10)});
    ExpectColumn(t, "c2", {I(0), I(0), I(0), I(3), I(6), I(4)});
    auto f = RunPlan(nulls_first, threads);
    ExpectColumn(f, "s2", {N(), N(), N(), I(5), N(), I(10)});
    ExpectColumn(f, "c2", {I(1), I(1), I(1), I(4), I(1), I(5)});
    auto d = RunPlan(desc, threads);
    ExpectColumn(d, "s", {I(5), I(4), I(4), I(5), N(), I(8)});
    ExpectColumn(d, "c", {I(3), I(2), I(2), I(1), I(1), I(1)});
  }
}

TEST(Window, RangeOffsetsOnDatesAndTimestamps) {
  // 2024-01-31, 2024-02-29, 2024-03-01, 2024-03-31 as days since the epoch.
  arrow::Date32Builder db;
  for (int32_t d : {19753, 19782, 19783, 19813}) ASSERT_TRUE(db.Append(d).ok());
  auto dates = db.Finish().ValueOrDie();
  const int64_t hour = 3600LL * 1000000;
  arrow::TimestampBuilder tb(arrow::timestamp(arrow::TimeUnit::MICRO),
                             arrow::default_memory_pool());
  for (int64_t h : {0, 12, 36, 48}) ASSERT_TRUE(tb.Append(h * hour).ok());
  auto times = tb.Finish().ValueOrDie();
  auto input = ScanOf(MakeTable({{"id", Ids(4)}, {"d", dates}, {"ts", times}}));
  auto month = std::make_shared<arrow::MonthDayNanoIntervalScalar>(
      arrow::MonthDayNanoIntervalType::MonthDayNanos{1, 0, 0});
  auto day = std::make_shared<arrow::MonthDayNanoIntervalScalar>(
      arrow::MonthDayNanoIntervalType::MonthDayNanos{0, 1, 0});
  auto day_duration = std::make_shared<arrow::DurationScalar>(
      24 * hour, arrow::duration(arrow::TimeUnit::MICRO));
  auto by_date = MustWindow(
      input, {}, {Asc("d")},
      {Fn("count_star", {}, "month", Range(Preceding(month), Current())),
       Fn("count_star", {}, "days", Range(Preceding(1), Current())),
       Fn("min", {Column("d")}, "first_in_month", Range(Preceding(month), Current()))});
  auto by_time = MustWindow(
      input, {}, {Asc("ts")},
      {Fn("count_star", {}, "back", Range(Preceding(day), Current())),
       Fn("count_star", {}, "ahead", Range(Current(), Following(day_duration)))});
  for (int threads : {1, 4}) {
    auto t = RunPlan(by_date, threads);
    // 03-31 minus a month is 02-29 (the day clamps to the month's last).
    ExpectColumn(t, "month", {I(1), I(2), I(2), I(3)});
    ExpectColumn(t, "days", {I(1), I(1), I(2), I(1)});
    ExpectColumn(t, "first_in_month", {I(19753), I(19753), I(19782), I(19782)});
    auto u = RunPlan(by_time, threads);
    ExpectColumn(u, "back", {I(1), I(2), I(2), I(2)});
    ExpectColumn(u, "ahead", {I(2), I(2), I(2), I(1)});
  }
}

TEST(Window, LagLead) {
  auto input = ScanOf(MakeTable({{"id", Ids(5)},
                                 {"p", Strings({"a", "a", "a", "b", "b"})},
                                 {"x", Ints({10, {}, 30, 40, 50})},
                                 {"s", Strings({"u", "v", "w", "x", "y"})}}));
  auto w = MustWindow(input, {Column("p")}, {Asc("id")},
                      {Fn("lag", {Column("x")}, "lag1"),
                       Fn("lag", {Column("x"), I64(2), I64(-1)}, "lag2"),
                       Fn("lead", {Column("x"), I64(1), I64(99)}, "lead1"),
                       Fn("lag", {Column("x"), I64(-1)}, "lag_back"),
                       Fn("lead", {Column("s"), I64(1), Column("s")}, "lead_s")});
  for (int threads : {1, 4}) {
    auto t = RunPlan(w, threads, 2);
    ExpectColumn(t, "lag1", {N(), I(10), N(), N(), I(40)});
    ExpectColumn(t, "lag2", {I(-1), I(-1), I(10), I(-1), I(-1)});
    ExpectColumn(t, "lead1", {N(), I(30), I(99), I(50), I(99)});
    ExpectColumn(t, "lag_back", {N(), I(30), N(), I(50), N()});
    // The default is evaluated on the current row.
    ExpectColumn(t, "lead_s", {S("v"), S("w"), S("w"), S("y"), S("y")});
  }
}

TEST(Window, DecimalSumKeepsScaleAndAvgIsDouble) {
  arrow::Decimal128Builder b(arrow::decimal128(10, 2));
  ASSERT_TRUE(b.Append(arrow::Decimal128(150)).ok());
  ASSERT_TRUE(b.Append(arrow::Decimal128(225)).ok());
  ASSERT_TRUE(b.AppendNull().ok());
  auto input = ScanOf(MakeTable({{"id", Ids(3)}, {"x", b.Finish().ValueOrDie()}}));
  auto w = MustWindow(input, {}, {Asc("id")},
                      {Fn("sum", {Column("x")}, "s"), Fn("avg", {Column("x")}, "a"),
                       Fn("max", {Column("x")}, "m")});
  auto t = RunPlan(w, 2);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->schema()->GetFieldByName("s")->type()->Equals(arrow::decimal128(38, 2)));
  EXPECT_EQ(t->schema()->GetFieldByName("a")->type()->id(), arrow::Type::DOUBLE);
  EXPECT_TRUE(t->schema()->GetFieldByName("m")->type()->Equals(arrow::decimal128(10, 2)));
  ExpectColumn(t, "s", {S("1.50"), S("3.75"), S("3.75")});
  ExpectColumn(t, "a", {D(1.5), D(1.875), D(1.875)});
  ExpectColumn(t, "m", {S("1.50"), S("2.25"), S("2.25")});
}

TEST(Window, IntegerSumOverflowFails) {
  auto input = ScanOf(
      MakeTable({{"id", Ids(2)}, {"x", Ints({std::numeric_limits<int64_t>::max(), 1})}}));
  auto w = MustWindow(input, {}, {}, {Fn("sum", {Column("x")}, "s")});
  auto r = TryRun(w, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("integer overflow in sum()"), std::string::npos)
      << r.status().ToString();
}

TEST(Window, EmptyInputAndEmptyFrames) {
  auto empty = MakeTable({{"id", Ints({})}, {"p", Ints({})}, {"v", Doubles({})}});
  auto w = MustWindow(ScanOf(empty), {Column("p")}, {Asc("v")},
                      {Fn("row_number", {}, "rn"), Fn("sum", {Column("v")}, "s"),
                       Fn("lag", {Column("v")}, "l")});
  for (int threads : {1, 4}) {
    auto t = RunPlan(w, threads);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->num_rows(), 0);
    EXPECT_EQ(t->num_columns(), 6);
  }
  // Every row filtered out below the window.
  auto input = ScanOf(RankingTable());
  auto none = plan::MakeFilter(input, Call(">", {Column("v"), I64(100)}));
  ASSERT_TRUE(none.ok());
  auto w2 = MustWindow(*none, {Column("p")}, {}, {Fn("count_star", {}, "c")});
  auto t2 = RunPlan(w2, 4);
  ASSERT_TRUE(t2);
  EXPECT_EQ(t2->num_rows(), 0);
}

TEST(Window, SameResultsAndOrderForAnyThreadCount) {
  std::mt19937 rng(7);
  const int64_t n = 50000;
  std::vector<std::optional<int64_t>> p, o;
  std::vector<std::optional<double>> x;
  for (int64_t i = 0; i < n; ++i) {
    p.push_back(rng() % 50 == 0 ? std::nullopt : std::optional<int64_t>(rng() % 300));
    o.push_back(rng() % 20 == 0 ? std::nullopt : std::optional<int64_t>(rng() % 100));
    x.push_back(rng() % 10 == 0 ? std::nullopt : std::optional<double>(rng() % 1000));
  }
  auto input = ScanOf(
      MakeTable({{"id", Ids(n)}, {"p", Ints(p)}, {"o", Ints(o)}, {"x", Doubles(x)}}));
  auto w = MustWindow(input, {Column("p")}, {Asc("o")},
                      {Fn("row_number", {}, "rn"), Fn("rank", {}, "rk"),
                       Fn("sum", {Column("x")}, "s", Rows(Preceding(3), Following(2))),
                       Fn("max", {Column("x")}, "m", Range(Preceding(5), Following(5))),
                       Fn("lead", {Column("x")}, "ld")});
  auto one = RunPlan(w, 1, 4096);
  auto four = RunPlan(w, 4, 4096);
  ASSERT_TRUE(one && four);
  EXPECT_EQ(one->num_rows(), n);
  EXPECT_TRUE(one->Equals(*four));
}

TEST(Window, MemoryLimitErrorNamesWindow) {
  const int64_t n = 200000;
  std::vector<std::optional<double>> x(n, 1.5);
  auto input = ScanOf(MakeTable({{"id", Ids(n)}, {"x", Doubles(x)}}));
  auto w = MustWindow(input, {}, {Asc("x")}, {Fn("row_number", {}, "rn")});
  auto r = TryRun(w, 2, 4096, 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsOutOfMemory()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("Window"), std::string::npos)
      << r.status().ToString();
}

// ---- planning
// ----------------------------------------------------------------------------

TEST(Window, PlanErrors) {
  auto input = ScanOf(MakeTable({{"id", Ids(1)}, {"s", Strings({"a"})}}));
  auto error = [&](std::vector<SortKey> order, WindowFunction f) {
    auto w = plan::MakeWindow(input, {}, std::move(order), {std::move(f)});
    EXPECT_FALSE(w.ok());
    return w.status().message();
  };
  EXPECT_EQ(error({}, Fn("ntile", {I64(0)}, "n")),
            "ntile() needs a positive integer constant");
  EXPECT_EQ(error({}, Fn("ntile", {Column("id")}, "n")),
            "ntile() needs a positive integer constant");
  EXPECT_EQ(error({}, Fn("nth_value", {Column("id"), I64(-2)}, "n")),
            "nth_value() needs a positive integer constant");
  EXPECT_EQ(error({}, Fn("lag", {Column("id"), Column("id")}, "n")),
            "lag() offset must be an integer constant");
  EXPECT_EQ(
      error({Asc("s")}, Fn("sum", {Column("id")}, "n", Range(Preceding(1), Current()))),
      "RANGE with an offset needs exactly one ORDER BY key of a numeric, date or "
      "timestamp type");
  EXPECT_EQ(error({Asc("id"), Asc("s")},
                  Fn("sum", {Column("id")}, "n", Range(Preceding(1), Current()))),
            "RANGE with an offset needs exactly one ORDER BY key of a numeric, date or "
            "timestamp type");
  EXPECT_EQ(error({Asc("id")}, Fn("sum", {Column("id")}, "n",
                                  Rows(Unbounded(false), Unbounded(false)))),
            "frame start cannot be UNBOUNDED FOLLOWING");
  EXPECT_EQ(
      error({Asc("id")}, Fn("sum", {Column("id")}, "n", Rows(Current(), Preceding(1)))),
      "frame starting from current row cannot have preceding rows");
  EXPECT_EQ(
      error({Asc("id")}, Fn("sum", {Column("id")}, "n", Rows(Preceding(-1), Current()))),
      "frame starting offset must not be negative");
  EXPECT_EQ(error({Asc("id")}, Fn("sum", {Column("id")}, "n",
                                  Rows(Preceding(arrow::MakeScalar(1.5)), Current()))),
            "ROWS frame starting offset must be an integer, got double");
  EXPECT_EQ(error({}, Fn("sum", {Column("s")}, "n")),
            "sum() needs a numeric argument, got varchar");
  EXPECT_EQ(error({}, Fn("rank", {Column("s")}, "n")), "rank() takes 0 arguments, got 1");
  EXPECT_EQ(error({}, Fn("median", {Column("id")}, "n")),
            "median() is not supported as a window function");
  EXPECT_EQ(error({}, Fn("nope", {}, "n")), "unknown window function 'nope'");
  // Result types.
  auto ok = plan::MakeWindow(
      input, {}, {Asc("id")},
      {Fn("lag", {Column("s"), I64(1), Literal(arrow::MakeScalar(std::string("z")))},
          "l"),
       Fn("count", {Column("s")}, "c"), Fn("mean", {Column("id")}, "a"),
       Fn("sum", {Column("id")}, "s"), Fn("min", {Column("s")}, "m")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  const auto& schema = *(*ok)->schema;
  EXPECT_EQ(schema.ToString(),
            "id: int64\ns: string\nl: string\nc: int64\na: double\ns: int64\nm: string");
}

TEST(Window, ExplainAndOptimizerRules) {
  auto input = ScanOf(RankingTable());
  auto w = MustWindow(input, {Column("p")}, {Asc("v")},
                      {Fn("row_number", {}, "rn"),
                       Fn("sum", {Column("v")}, "s", Rows(Preceding(1), Current()))});
  std::string explain = plan::ExplainPlan(w);
  EXPECT_NE(
      explain.find("Window partition=[p] order=[v asc nulls last] fns=[row_number() "
                   "AS rn, sum(v) ROWS BETWEEN 1 PRECEDING AND CURRENT ROW AS s]"),
      std::string::npos)
      << explain;
  // A filter on the partition key goes below the window; one on a window output or an
  // ORDER BY column stays above.
  auto f = plan::MakeFilter(
      w,
      Call("and", {Call("=", {Column("p"), Literal(arrow::MakeScalar(std::string("a")))}),
                   Call(">", {Column("rn"), I64(1)})}));
  ASSERT_TRUE(f.ok());
  auto proj = plan::MakeProject(*f, {Column("id"), Column("rn")});
  ASSERT_TRUE(proj.ok());
  auto opt = plan::Optimize(*proj);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  std::string text = plan::ExplainPlan(*opt);
  auto window_at = text.find("Window");
  auto p_filter_at = text.find("Filter (p = 'a')");
  auto rn_filter_at = text.find("Filter (rn > 1)");
  ASSERT_NE(window_at, std::string::npos) << text;
  ASSERT_NE(p_filter_at, std::string::npos) << text;
  ASSERT_NE(rn_filter_at, std::string::npos) << text;
  EXPECT_LT(rn_filter_at, window_at) << text;
  EXPECT_GT(p_filter_at, window_at) << text;
  // The unused sum is dropped.
  EXPECT_EQ(text.find("sum("), std::string::npos) << text;
  for (int threads : {1, 4}) {
    for (const auto& p : {*proj, *opt}) {
      auto t = RunPlan(p, threads);
      ASSERT_TRUE(t);
      std::map<int64_t, int64_t> rn;  // id -> rn
      for (int64_t r = 0; r < t->num_rows(); ++r) {
        rn[CellAt(*t->column(0)->chunk(0), r).i] = CellAt(*t->column(1)->chunk(0), r).i;
      }
      EXPECT_EQ(rn, (std::map<int64_t, int64_t>{{1, 2}, {2, 3}, {3, 4}}));
    }
  }
  // A window whose outputs nobody uses disappears; one that uses no input column
  // still counts rows.
  auto only_id = plan::MakeProject(w, {Column("id")});
  ASSERT_TRUE(only_id.ok());
  auto opt2 = plan::Optimize(*only_id);
  ASSERT_TRUE(opt2.ok());
  EXPECT_EQ(plan::ExplainPlan(*opt2).find("Window"), std::string::npos);
  auto count = MustWindow(input, {}, {}, {Fn("count_star", {}, "n")});
  auto only_count = plan::MakeProject(count, {Column("n")});
  ASSERT_TRUE(only_count.ok());
  auto opt3 = plan::Optimize(*only_count);
  ASSERT_TRUE(opt3.ok());
  auto t = RunPlan(*opt3, 2);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->num_rows(), 9);
  EXPECT_TRUE(Same(CellAt(*t->column(0)->chunk(0), 8), I(9)));
}

// ---- randomized comparison with a naive reference -------------------------------------

// A random frame; RANGE offsets only if `range_ok` (one numeric ORDER BY key).
WindowFrame RandomFrame(std::mt19937& rng, bool range_ok, bool double_key) {
  if (rng() % 5 == 0) return WindowFrame{};
  const bool rows = !range_ok || rng() % 2 == 0;
  auto offset = [&]() -> std::shared_ptr<arrow::Scalar> {
    int64_t v = rng() % 4;
    if (!rows && double_key) return arrow::MakeScalar(static_cast<double>(v) + 0.5);
    return arrow::MakeScalar(v);
  };
  // start kind in {UNBOUNDED PRECEDING, PRECEDING, CURRENT, FOLLOWING}; end not before.
  int start = static_cast<int>(rng() % 4);
  int end = start == 0 ? 1 + static_cast<int>(rng() % 4)
                       : start + static_cast<int>(rng() % (5 - start));
  if (start == 1 && end == 1 && rng() % 2) end = 2;
  auto bound = [&](int kind) -> FrameBound {
    switch (kind) {
      case 0:
        return Unbounded(true);
      case 1:
        return Preceding(offset());
      case 2:
        return Current();
      case 3:
        return Following(offset());
      default:
        return Unbounded(false);
    }
  };
  return Frame(rows ? FrameUnit::kRows : FrameUnit::kRange, bound(start), bound(end));
}

struct RandomData {
  int64_t n = 0;
  std::vector<std::optional<int64_t>> p, o1, o2, xi;
  std::vector<std::optional<double>> od, xd;
  std::vector<std::optional<std::string>> s;
  std::shared_ptr<arrow::Table> table;
};

RandomData MakeRandomData(std::mt19937& rng, int64_t n, int partitions) {
  RandomData d;
  d.n = n;
  auto maybe = [&](int null_one_in) { return rng() % null_one_in != 0; };
  for (int64_t i = 0; i < n; ++i) {
    d.p.push_back(maybe(15) ? std::optional<int64_t>(rng() % partitions) : std::nullopt);
    d.o1.push_back(maybe(8) ? std::optional<int64_t>(rng() % 12) : std::nullopt);
    d.o2.push_back(maybe(8) ? std::optional<int64_t>(rng() % 3) : std::nullopt);
    d.od.push_back(maybe(8) ? std::optional<double>((rng() % 40) / 4.0) : std::nullopt);
    d.xi.push_back(maybe(5)
                       ? std::optional<int64_t>(static_cast<int64_t>(rng() % 2001) - 1000)
                       : std::nullopt);
    d.xd.push_back(
        maybe(5) ? std::optional<double>((static_cast<int>(rng() % 2001) - 1000) / 8.0)
                 : std::nullopt);
    d.s.push_back(maybe(5) ? std::optional<std::string>(std::string(1, 'a' + rng() % 26) +
                                                        std::to_string(rng() % 10))
                           : std::nullopt);
  }
  d.table = MakeTable({{"id", Ids(n)},
                       {"p", Ints(d.p)},
                       {"o1", Ints(d.o1)},
                       {"o2", Ints(d.o2)},
                       {"od", Doubles(d.od)},
                       {"xi", Ints(d.xi)},
                       {"xd", Doubles(d.xd)},
                       {"s", Strings(d.s)}});
  return d;
}

// The reference: O(n^2) per partition, written from the SQL definitions (PostgreSQL's
// frame rules, including its NULL handling for RANGE offsets) without sharing code with
// the operator.
class Reference {
 public:
  Reference(const RandomData& d, bool partitioned, const std::vector<std::string>& order,
            const std::vector<bool>& asc, const std::vector<bool>& nulls_first)
      : d_(d), order_(order), asc_(asc), nulls_first_(nulls_first) {
    std::map<std::optional<int64_t>, std::vector<int64_t>> parts;
    for (int64_t i = 0; i < d.n; ++i) parts[partitioned ? d.p[i] : 0].push_back(i);
    for (auto& [key, rows] : parts) {
      std::stable_sort(rows.begin(), rows.end(),
                       [&](int64_t a, int64_t b) { return CompareOrder(a, b) < 0; });
      partitions_.push_back(rows);
    }
  }

  // Order key k of row r as a double (NaN-free data), or nullopt.
  std::optional<double> Key(size_t k, int64_t r) const {
    const std::string& c = order_[k];
    if (c == "od") return d_.od[r];
    const auto& v = c == "o1" ? d_.o1[r] : d_.o2[r];
    if (!v) return std::nullopt;
    return static_cast<double>(*v);
  }

  int CompareOrder(int64_t a, int64_t b) const {
    for (size_t k = 0; k < order_.size(); ++k) {
      if (order_[k] == "s") {
        const auto &x = d_.s[a], &y = d_.s[b];
        if (!x && !y) continue;
        if (!x || !y) return (!x ? -1 : 1) * (nulls_first_[k] ? 1 : -1);
        if (*x != *y) return (*x < *y ? -1 : 1) * (asc_[k] ? 1 : -1);
        continue;
      }
      auto x = Key(k, a), y = Key(k, b);
      if (!x && !y) continue;
      if (!x || !y) return (!x ? -1 : 1) * (nulls_first_[k] ? 1 : -1);
      if (*x != *y) return (*x < *y ? -1 : 1) * (asc_[k] ? 1 : -1);
    }
    return 0;
  }

  // Frame of position i of partition `rows` as [start, end).
  std::pair<int64_t, int64_t> FrameOf(const std::vector<int64_t>& rows, int64_t i,
                                      const WindowFrame& given) const {
    WindowFrame f = given.is_default ? WindowFrame{} : given;
    const int64_t m = static_cast<int64_t>(rows.size());
    auto peers_begin = [&] {
      int64_t j = i;
      while (j > 0 && CompareOrder(rows[j - 1], rows[i]) == 0) --j;
      return j;
    };
    auto peers_end = [&] {
      int64_t j = i + 1;
      while (j < m && CompareOrder(rows[j], rows[i]) == 0) ++j;
      return j;
    };
    auto off_rows = [](const FrameBound& b) {
      return static_cast<const arrow::Int64Scalar&>(*b.offset).value;
    };
    auto off_range = [](const FrameBound& b) {
      if (b.offset->type->id() == arrow::Type::DOUBLE) {
        return static_cast<const arrow::DoubleScalar&>(*b.offset).value;
      }
      return static_cast<double>(static_cast<const arrow::Int64Scalar&>(*b.offset).value);
    };
    const bool asc = asc_.empty() || asc_[0];
    const bool nf = !nulls_first_.empty() && nulls_first_[0];
    auto cur = order_.empty() ? std::nullopt : Key(0, rows[i]);
    // PostgreSQL's in_range: is `val` on the right side of cur -/+ offset?
    auto in_range = [&](double val, const FrameBound& b, bool less) {
      double off = off_range(b);
      bool sub = (b.kind == FrameBoundKind::kPreceding) == asc;
      double base = sub ? *cur - off : *cur + off;
      return less ? val <= base : val >= base;
    };
    int64_t start = 0, end = m;
    switch (f.start.kind) {
      case FrameBoundKind::kUnboundedPreceding:
        start = 0;
        break;
      case FrameBoundKind::kCurrentRow:
        start = f.unit == FrameUnit::kRows ? i : peers_begin();
        break;
      default:
        if (f.unit == FrameUnit::kRows) {
          int64_t o = off_rows(f.start);
          start = f.start.kind == FrameBoundKind::kPreceding ? i - o : i + o;
        } else {
          // Advance the head while it is before the frame.
          start = 0;
          while (start < m) {
            auto head = Key(0, rows[start]);
            if (!head || !cur) {
              if (nf ? (head.has_value() || !cur.has_value())
                     : (!head.has_value() || cur.has_value())) {
                break;
              }
            } else if (in_range(*head, f.start, /*less=*/!asc)) {
              break;
            }
            ++start;
          }
        }
    }
    switch (f.end.kind) {
      case FrameBoundKind::kUnboundedFollowing:
        end = m;
        break;
      case FrameBoundKind::kCurrentRow:
        end = f.unit == FrameUnit::kRows ? i + 1 : peers_end();
        break;
      default:
        if (f.unit == FrameUnit::kRows) {
          int64_t o = off_rows(f.end);
          end = (f.end.kind == FrameBoundKind::kPreceding ? i - o : i + o) + 1;
        } else {
          // Advance the tail while it is within the frame.
          end = 0;
          while (end < m) {
            auto tail = Key(0, rows[end]);
            if (!tail || !cur) {
              if (nf ? tail.has_value() : cur.has_value()) break;
            } else if (!in_range(*tail, f.end, /*less=*/asc)) {
              break;
            }
            ++end;
          }
        }
    }
    start = std::clamp<int64_t>(start, 0, m);
    end = std::clamp<int64_t>(end, 0, m);
    return {start, std::max(start, end)};
  }

  // Expected value of `f` for every row id.
  std::vector<Cell> Compute(const WindowFunction& f) const {
    std::vector<Cell> out(d_.n);
    for (const auto& rows : partitions_) {
      const int64_t m = static_cast<int64_t>(rows.size());
      for (int64_t i = 0; i < m; ++i) out[rows[i]] = One(f, rows, i);
    }
    return out;
  }

 private:
  Cell Arg(const std::string& c, int64_t r) const {
    if (c == "xi") return d_.xi[r] ? I(*d_.xi[r]) : N();
    if (c == "xd") return d_.xd[r] ? D(*d_.xd[r]) : N();
    if (c == "s") return d_.s[r] ? S(*d_.s[r]) : N();
    if (c == "o1") return d_.o1[r] ? I(*d_.o1[r]) : N();
    return N();
  }

  Cell One(const WindowFunction& f, const std::vector<int64_t>& rows, int64_t i) const {
    const int64_t m = static_cast<int64_t>(rows.size());
    const std::string& name = f.name;
    std::string col = f.args.empty() ? "" : f.args[0]->name;
    int64_t rank = 1, dense = 1, peers_last = i;
    if (name == "rank" || name == "dense_rank" || name == "percent_rank" ||
        name == "cume_dist") {
      for (int64_t j = 0; j < i; ++j) {
        if (CompareOrder(rows[j], rows[i]) != 0) ++rank;
        if (j > 0 && CompareOrder(rows[j - 1], rows[j]) != 0) ++dense;
      }
      if (i > 0 && CompareOrder(rows[i - 1], rows[i]) != 0) ++dense;
      while (peers_last + 1 < m && CompareOrder(rows[peers_last + 1], rows[i]) == 0) {
        ++peers_last;
      }
    }
    auto literal = [&](size_t a) {
      return static_cast<const arrow::Int64Scalar&>(*f.args[a]->value).value;
    };
    if (name == "row_number") return I(i + 1);
    if (name == "rank") return I(rank);
    if (name == "dense_rank") return I(dense);
    if (name == "percent_rank") {
      return D(m > 1 ? static_cast<double>(rank - 1) / static_cast<double>(m - 1) : 0);
    }
    if (name == "cume_dist") {
      return D(static_cast<double>(peers_last + 1) / static_cast<double>(m));
    }
    if (name == "ntile") {
      // Bucket sizes differ by at most one, larger buckets first.
      int64_t k = literal(0), row = 0;
      for (int64_t b = 0; b < k; ++b) {
        int64_t size = m / k + (b < m % k ? 1 : 0);
        if (i < row + size) return I(b + 1);
        row += size;
      }
      return I(-1);
    }
    if (name == "lag" || name == "lead") {
      int64_t off = f.args.size() > 1 ? literal(1) : 1;
      int64_t src = name == "lag" ? i - off : i + off;
      if (src >= 0 && src < m) return Arg(col, rows[src]);
      if (f.args.size() > 2) return I(literal(2));
      return N();
    }
    auto [s, e] = FrameOf(rows, i, f.frame);
    if (name == "first_value") return s < e ? Arg(col, rows[s]) : N();
    if (name == "last_value") return s < e ? Arg(col, rows[e - 1]) : N();
    if (name == "nth_value") {
      int64_t k = literal(1);
      return e - s >= k ? Arg(col, rows[s + k - 1]) : N();
    }
    if (name == "count_star") return I(e - s);
    int64_t count = 0;
    long double sum = 0;
    Cell best = N();
    for (int64_t j = s; j < e; ++j) {
      Cell v = Arg(col, rows[j]);
      if (v.kind == Cell::kNull) continue;
      ++count;
      sum += v.kind == Cell::kDouble ? v.d : static_cast<long double>(v.i);
      bool better = best.kind == Cell::kNull;
      if (!better && v.kind == Cell::kText) {
        better = name == "min" ? v.s < best.s : v.s > best.s;
      } else if (!better && v.kind == Cell::kInt) {
        better = name == "min" ? v.i < best.i : v.i > best.i;
      } else if (!better) {
        better = name == "min" ? v.d < best.d : v.d > best.d;
      }
      if (better) best = v;
    }
    if (name == "count") return I(count);
    if (name == "min" || name == "max") return best;
    if (count == 0) return N();
    if (name == "avg") return D(static_cast<double>(sum / count));
    if (col == "xi") return I(static_cast<int64_t>(sum));
    return D(static_cast<double>(sum));
  }

  const RandomData& d_;
  std::vector<std::string> order_;
  std::vector<bool> asc_, nulls_first_;
  std::vector<std::vector<int64_t>> partitions_;
};

WindowFunction RandomFunction(std::mt19937& rng, bool range_ok, bool double_key,
                              int index) {
  static const char* kNames[] = {
      "row_number", "rank", "dense_rank",  "percent_rank", "cume_dist", "ntile",
      "lag",        "lead", "first_value", "last_value",   "nth_value", "sum",
      "avg",        "min",  "max",         "count",        "count_star"};
  std::string name = kNames[rng() % 17];
  static const char* kNumeric[] = {"xi", "xd"};
  static const char* kAny[] = {"xi", "xd", "s", "o1"};
  std::string col =
      (name == "sum" || name == "avg") ? kNumeric[rng() % 2] : kAny[rng() % 4];
  std::vector<expr::Expr> args;
  if (name == "ntile") args = {I64(1 + rng() % 7)};
  if (name == "lag" || name == "lead") {
    args = {Column(col)};
    if (rng() % 2) args.push_back(I64(static_cast<int64_t>(rng() % 5) - 1));
    if (args.size() == 2 && col == "xi" && rng() % 2) args.push_back(I64(-7));
  }
  if (name == "nth_value") args = {Column(col), I64(1 + rng() % 3)};
  if (name == "first_value" || name == "last_value" || name == "sum" || name == "avg" ||
      name == "min" || name == "max" || name == "count") {
    args = {Column(col)};
  }
  return Fn(name, args, "f" + std::to_string(index),
            RandomFrame(rng, range_ok, double_key));
}

TEST(Window, RandomizedAgainstNaiveReference) {
  std::mt19937 rng(20240607);
  for (int round = 0; round < 60; ++round) {
    const int64_t n = round < 50 ? 1 + rng() % 300 : 6000 + rng() % 3000;
    RandomData d = MakeRandomData(rng, n, round < 50 ? 1 + rng() % 6 : 40);
    const bool big = round >= 50;
    const bool partitioned = big || rng() % 4 != 0;
    std::vector<std::string> order;
    int shape = static_cast<int>(rng() % 6);
    if (shape == 1) order = {"o1"};
    if (shape == 2) order = {"od"};
    if (shape == 3) order = {"o1", "o2"};
    if (shape == 4) order = {"s"};
    if (shape == 5) order = {"o2", "s"};
    std::vector<bool> asc, nulls_first;
    std::vector<SortKey> keys;
    for (const auto& c : order) {
      asc.push_back(rng() % 2);
      nulls_first.push_back(rng() % 2);
      keys.push_back(SortKey{Column(c), asc.back(), nulls_first.back()});
    }
    std::vector<WindowFunction> fns;
    for (int f = 0; f < 6; ++f) {
      fns.push_back(RandomFunction(rng, shape == 1 || shape == 2, shape == 2, f));
    }
    std::vector<expr::Expr> partition_by;
    if (partitioned) partition_by.push_back(Column("p"));
    auto w = plan::MakeWindow(ScanOf(d.table), partition_by, keys, fns);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    Reference ref(d, partitioned, order, asc, nulls_first);
    const auto& bound = static_cast<const plan::WindowNode&>(**w).functions;
    std::vector<std::vector<Cell>> expect;
    for (const auto& f : bound) expect.push_back(ref.Compute(f));
    for (int threads : {1, 4}) {
      auto t = RunPlan(*w, threads, 1 + rng() % (big ? 2048 : 64));
      ASSERT_TRUE(t);
      ASSERT_EQ(t->num_rows(), n);
      for (size_t f = 0; f < bound.size(); ++f) {
        const auto& expected = expect[f];
        auto got = ById(t, bound[f].output_name);
        int failures = 0;
        for (int64_t i = 0; i < n && failures < 3; ++i) {
          if (!Same(got[i], expected[i])) {
            ++failures;
            ADD_FAILURE() << "round " << round << " threads " << threads << ": "
                          << plan::DescribeNode(**w) << "\n  function "
                          << bound[f].output_name << " id=" << i << ": got "
                          << ToString(got[i]) << ", expected " << ToString(expected[i]);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice::exec
