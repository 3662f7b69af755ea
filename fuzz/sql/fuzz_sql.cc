// fuzz_sql: the SQL front end, optimizer and executor on arbitrary query text.
//
// Input: SQL text (any bytes). It is split with sql::SplitStatements, and each of the
// first few statements (or the whole text, if splitting fails) is planned with
// sql::PlanQuery against a fixed catalog of small in-memory tables: the tables the SQL
// logic tests (tests/sql/*.test) and TPC-H (tests/tpch/queries) use, with their column
// names and types (int8..int64, uint8..uint64, double, decimal, string, date,
// timestamp with and without a time zone, bool), 0 to 5 rows each, nulls and extreme
// values included. Table functions (read_csv(...)) are refused: the fuzzer must not
// read files. A plan that binds is explained, optimized and explained again, and then
// executed (2 threads, batches of 3 rows, a 256 MiB memory budget) unless its worst
// case row count is large (a cross join of many tables): see kMaxRows.
//
// Checked: no crash, no sanitizer report, no uncaught exception, no DCHECK failure;
// a result that comes back has valid arrays (ValidateFull) and the planned types.
// Errors (a Status) are fine, whatever they say.
#include <arrow/api.h>
#include <arrow/compute/cast.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/exec/exec_context.h"
#include "sluice/exec/physical_planner.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/logical_plan.h"
#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/sql/sql_planner.h"

namespace sluice::fuzz {
namespace {

// A plan whose worst-case row count (every join key equal) exceeds this is planned
// and optimized but not executed: it would spend the fuzzer's time on one query.
constexpr double kMaxRows = 50000;
// Statements of a script that are planned.
constexpr size_t kMaxStatements = 4;

struct TableSpec {
  const char* name;
  int rows;
  const char* columns;  // "name TYPE, ..." with DuckDB type names
};

// Names and column types from the `load` blocks of tests/sql/*.test (the union of the
// columns of all blocks of one name) and the TPC-H schema, so the seed queries bind.
constexpr TableSpec kTables[] = {
    {"t", 5,
     "id INTEGER, a INTEGER, b INTEGER, k INTEGER, v DOUBLE, s VARCHAR, d DATE, "
     "ts TIMESTAMP, tz TIMESTAMPTZ, e BIGINT"},
    {"u", 4, "k INTEGER, a INTEGER, c BIGINT, name VARCHAR"},
    {"g", 5,
     "id INTEGER, k VARCHAR, i BIGINT, f DOUBLE, d DECIMAL(12,2), b BOOLEAN, s VARCHAR, "
     "dt DATE, ts TIMESTAMP"},
    {"e", 0, "k VARCHAR, i BIGINT, f DOUBLE, b BOOLEAN, s VARCHAR, id INTEGER, x DOUBLE"},
    {"empty", 0, "a BIGINT, d DECIMAL(12,2), k INTEGER, v DOUBLE"},
    {"x", 3, "id INTEGER, i BIGINT"},
    {"ub", 4, "id INTEGER, u UBIGINT, i BIGINT"},
    {"n", 5,
     "id INTEGER, a BIGINT, b BIGINT, i8 TINYINT, i16 SMALLINT, i32 INTEGER, "
     "u8 UTINYINT, u32 UINTEGER, f DOUBLE, d DECIMAL(12,2)"},
    {"ext", 3, "id INTEGER, x BIGINT"},
    {"wide", 3, "id INTEGER, i BIGINT, u UBIGINT, d DECIMAL(38,0), v VARCHAR"},
    {"c", 5,
     "id INTEGER, s VARCHAR, i BIGINT, f DOUBLE, d DECIMAL(12,2), dt DATE, ts TIMESTAMP, "
     "b BOOLEAN"},
    {"txt", 4, "id INTEGER, s VARCHAR"},
    {"l", 5, "id INTEGER, k INTEGER, s VARCHAR, x BIGINT"},
    {"r", 5, "id INTEGER, k BIGINT, s VARCHAR, y BIGINT"},
    {"a1", 1, "k INTEGER"},
    {"b1", 1, "k INTEGER"},
    {"c1", 2, "k INTEGER"},
    {"tv", 5, "p BOOLEAN, q BOOLEAN"},
    {"v", 5,
     "id INTEGER, i BIGINT, f DOUBLE, s VARCHAR, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, "
     "b BOOLEAN, n DECIMAL(12,2)"},
    {"un", 4, "id INTEGER, u UBIGINT, u8 UTINYINT, f DOUBLE"},
    {"gl", 4, "id INTEGER, tz TIMESTAMPTZ, b BOOLEAN"},
    {"m", 5, "id INTEGER, i BIGINT, f DOUBLE, d DECIMAL(12,2)"},
    {"edge", 4, "id INTEGER, d DECIMAL(12,2)"},
    {"o", 5, "id INTEGER, k INTEGER, s VARCHAR, f DOUBLE, d DATE"},
    {"p", 4, "id INTEGER, k INTEGER, s VARCHAR, f DOUBLE"},
    {"q", 4, "id INTEGER, k BIGINT, s VARCHAR, f DOUBLE"},
    {"s", 3, "id INTEGER, v VARCHAR"},
    {"withnull", 3, "k INTEGER"},
    {"old", 3, "id INTEGER, ts TIMESTAMP"},
    {"dd", 4, "id INTEGER, d DATE"},
    {"big", 5, "id BIGINT, k BIGINT, v BIGINT, f DOUBLE"},
    {"big_l", 5, "id BIGINT, k BIGINT, g BIGINT"},
    {"big_r", 4, "id BIGINT, k BIGINT"},
    {"fj0", 5, "id BIGINT, k SMALLINT, k2 VARCHAR"},
    // TPC-H, 3 rows each: q8 joins eight tables.
    {"region", 2, "r_regionkey BIGINT, r_name VARCHAR, r_comment VARCHAR"},
    {"nation", 3,
     "n_nationkey BIGINT, n_name VARCHAR, n_regionkey BIGINT, n_comment VARCHAR"},
    {"part", 3,
     "p_partkey BIGINT, p_name VARCHAR, p_mfgr VARCHAR, p_brand VARCHAR, p_type VARCHAR, "
     "p_size INTEGER, p_container VARCHAR, p_retailprice DECIMAL(15,2), "
     "p_comment VARCHAR"},
    {"supplier", 3,
     "s_suppkey BIGINT, s_name VARCHAR, s_address VARCHAR, s_nationkey BIGINT, "
     "s_phone VARCHAR, s_acctbal DECIMAL(15,2), s_comment VARCHAR"},
    {"partsupp", 3,
     "ps_partkey BIGINT, ps_suppkey BIGINT, ps_availqty INTEGER, "
     "ps_supplycost DECIMAL(15,2), ps_comment VARCHAR"},
    {"customer", 3,
     "c_custkey BIGINT, c_name VARCHAR, c_address VARCHAR, c_nationkey BIGINT, "
     "c_phone VARCHAR, c_acctbal DECIMAL(15,2), c_mktsegment VARCHAR, c_comment VARCHAR"},
    {"orders", 3,
     "o_orderkey BIGINT, o_custkey BIGINT, o_orderstatus VARCHAR, "
     "o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority VARCHAR, "
     "o_clerk VARCHAR, o_shippriority INTEGER, o_comment VARCHAR"},
    {"lineitem", 3,
     "l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_linenumber INTEGER, "
     "l_quantity DECIMAL(15,2), l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), "
     "l_tax DECIMAL(15,2), l_returnflag VARCHAR, l_linestatus VARCHAR, l_shipdate DATE, "
     "l_commitdate DATE, l_receiptdate DATE, l_shipinstruct VARCHAR, "
     "l_shipmode VARCHAR, l_comment VARCHAR"},
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_sql: %s\n", what.c_str());
  std::abort();
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(' ');
  size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits "a, b(1,2), c" at commas outside parentheses.
std::vector<std::string> SplitTopLevel(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(Trim(cur));
  return out;
}

std::shared_ptr<arrow::DataType> TypeOf(const std::string& name) {
  static const std::map<std::string, std::shared_ptr<arrow::DataType>> kTypes = {
      {"TINYINT", arrow::int8()},
      {"SMALLINT", arrow::int16()},
      {"INTEGER", arrow::int32()},
      {"BIGINT", arrow::int64()},
      {"UTINYINT", arrow::uint8()},
      {"UINTEGER", arrow::uint32()},
      {"UBIGINT", arrow::uint64()},
      {"DOUBLE", arrow::float64()},
      {"VARCHAR", arrow::utf8()},
      {"BOOLEAN", arrow::boolean()},
      {"DATE", arrow::date32()},
      {"TIMESTAMP", arrow::timestamp(arrow::TimeUnit::MICRO)},
      {"TIMESTAMPTZ", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")},
  };
  auto it = kTypes.find(name);
  if (it != kTypes.end()) return it->second;
  int precision = 0, scale = 0;
  if (std::sscanf(name.c_str(), "DECIMAL(%d,%d)", &precision, &scale) == 2) {
    return arrow::decimal128(precision, scale);
  }
  Die("unknown type in the catalog: " + name);
}

// Values as text (nullopt: null), cast to the column type. Each column takes a window
// of the pool starting at its own offset, so tables differ but join keys still meet.
std::vector<std::optional<std::string>> PoolFor(const arrow::DataType& type) {
  using V = std::vector<std::optional<std::string>>;
  switch (type.id()) {
    case arrow::Type::INT8:
      return V{"1", "2", "3", std::nullopt, "0", "-7", "127"};
    case arrow::Type::INT16:
      return V{"1", "2", "3", std::nullopt, "0", "-7", "32767"};
    case arrow::Type::INT32:
      return V{"1", "2", "3", std::nullopt, "0", "-7", "2147483647"};
    case arrow::Type::INT64:
      return V{"1", "2", "3", std::nullopt, "0", "-7", "9223372036854775807"};
    case arrow::Type::UINT8:
      return V{"1", "2", "3", std::nullopt, "0", "200", "255"};
    case arrow::Type::UINT32:
      return V{"1", "2", "3", std::nullopt, "0", "7", "4294967295"};
    case arrow::Type::UINT64:
      return V{"1", "2", "3", std::nullopt, "0", "7", "18446744073709551615"};
    case arrow::Type::DOUBLE:
      return V{"1.5", "2", "-0.25", std::nullopt, "0", "nan", "inf", "1e300"};
    case arrow::Type::DECIMAL128: {
      const auto& d = static_cast<const arrow::Decimal128Type&>(type);
      if (d.scale() == 0) return V{"1", "2", "-3", std::nullopt, "0", "99", "12345"};
      return V{"1.50", "2", "-0.01", std::nullopt, "0", "99.99", "12345.67"};
    }
    case arrow::Type::STRING:
      return V{"a", "b", "abc", std::nullopt, "", "A%_", "\xc3\xbc\xe2\x82\xac", "a"};
    case arrow::Type::BOOL:
      return V{"true", "false", "true", std::nullopt, "false"};
    case arrow::Type::DATE32:
      return V{"2024-01-31", "2024-02-29", "1970-01-01",
               std::nullopt, "1999-12-31", "1900-03-01"};
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampType&>(type);
      V v{"2024-01-31 12:00:00", "2024-02-29 00:00:00.5",      "1970-01-01 00:00:00",
          std::nullopt,          "1999-12-31 23:59:59.999999", "1900-03-01 01:02:03"};
      if (!ts.timezone().empty()) {
        for (auto& s : v)
          if (s) *s += "Z";
      }
      return v;
    }
    default:
      Die("no value pool for " + type.ToString());
  }
}

std::shared_ptr<arrow::Table> MakeTable(const TableSpec& spec, int table_index) {
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  int c = 0;
  for (const auto& col : SplitTopLevel(spec.columns)) {
    size_t space = col.find(' ');
    auto type = TypeOf(col.substr(space + 1));
    auto pool = PoolFor(*type);
    arrow::StringBuilder text;
    for (int row = 0; row < spec.rows; ++row) {
      const auto& v = pool[(row + c * 2 + table_index) % pool.size()];
      arrow::Status st = v ? text.Append(*v) : text.AppendNull();
      if (!st.ok()) Die(st.ToString());
    }
    std::shared_ptr<arrow::Array> strings = text.Finish().ValueOrDie();
    auto cast = arrow::compute::Cast(*strings, type);
    if (!cast.ok()) Die(std::string(spec.name) + ": " + cast.status().ToString());
    fields.push_back(arrow::field(col.substr(0, space), type));
    columns.push_back(*cast);
    ++c;
  }
  auto table = arrow::Table::Make(arrow::schema(fields), columns, spec.rows);
  // Chunks of 2 rows: several morsels, so two workers each see some and their
  // per-thread states are merged.
  std::vector<std::shared_ptr<arrow::Table>> slices;
  for (int64_t off = 0; off < spec.rows; off += 2) slices.push_back(table->Slice(off, 2));
  if (slices.empty()) return table;
  return arrow::ConcatenateTables(slices).ValueOrDie();
}

class FuzzCatalog : public sql::Catalog {
 public:
  FuzzCatalog() {
    int i = 0;
    for (const auto& spec : kTables) {
      tables_[spec.name] = plan::MakeScan(
          std::make_shared<exec::InMemoryTable>(MakeTable(spec, i++), spec.name));
    }
    auto one = arrow::Table::Make(arrow::schema({}), arrow::ChunkedArrayVector{}, 1);
    single_row_ = plan::MakeScan(std::make_shared<exec::InMemoryTable>(one, "(one row)"));
  }

  Result<plan::Plan> FindTable(const std::string& name) override {
    std::string lower = name;
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto it = tables_.find(lower);
    if (it == tables_.end()) return plan::Plan();
    return it->second;
  }

  Result<plan::Plan> CallTableFunction(
      const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
      const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>&
          named_args) override {
    // Touch the arguments the planner built (their scalars must be valid).
    for (const auto& a : args)
      if (a) (void)a->ToString();
    for (const auto& [k, v] : named_args)
      if (v) (void)v->ToString();
    return Status::Invalid("fuzz_sql: table functions are not available");
  }

  Result<plan::Plan> SingleRow() override { return single_row_; }

 private:
  std::map<std::string, plan::Plan> tables_;
  plan::Plan single_row_;
};

// Rows the plan can produce at most on the catalog's data.
double MaxRows(const plan::Plan& node) {
  std::vector<double> in;
  for (const auto& child : node->inputs) in.push_back(MaxRows(child));
  switch (node->kind) {
    case plan::NodeKind::kScan: {
      auto rows = static_cast<const plan::ScanNode&>(*node).source->EstimatedRows();
      return rows ? static_cast<double>(*rows) : kMaxRows * 2;
    }
    case plan::NodeKind::kJoin:
      return in[0] * in[1] + in[0] + in[1];
    case plan::NodeKind::kUnion: {
      double sum = 0;
      for (double r : in) sum += r;
      return sum;
    }
    case plan::NodeKind::kAggregate:
      return in[0] + 1;
    default:
      return in.empty() ? 1 : in[0];
  }
}

void CheckResult(const plan::Plan& plan, const arrow::Table& table) {
  Status st = table.ValidateFull();
  if (!st.ok()) Die("invalid result: " + st.ToString());
  if (table.num_columns() != static_cast<int>(plan->schema->num_fields())) {
    Die("result has " + std::to_string(table.num_columns()) + " columns, plan " +
        std::to_string(plan->schema->num_fields()));
  }
  for (int i = 0; i < table.num_columns(); ++i) {
    const auto& want = plan->schema->field(i)->type();
    const auto& got = table.schema()->field(i)->type();
    if (!want->Equals(*got)) {
      Die("result column " + std::to_string(i) + " is " + got->ToString() + ", planned " +
          want->ToString());
    }
  }
}

void RunStatement(const std::string& sql, FuzzCatalog* catalog) {
  auto planned = sql::PlanQuery(sql, catalog);
  if (!planned.ok()) return;
  plan::Plan logical = *planned;
  plan::AssignIds(logical);
  (void)plan::ExplainPlan(logical);
  auto optimized = plan::Optimize(logical);
  if (!optimized.ok()) return;
  (void)plan::ExplainPlan(*optimized);
  if (MaxRows(*optimized) > kMaxRows) return;
  exec::ExecContext ctx(exec::ExecOptions{/*threads=*/2, /*memory_limit=*/256 << 20,
                                          /*batch_rows=*/3, /*spill_directory=*/{}});
  auto result = exec::ExecuteToTable(*optimized, &ctx);
  if (result.ok()) CheckResult(*optimized, **result);
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Arrow's buffers from malloc, so AddressSanitizer sees overflows in them (the
  // wheel's default pool, jemalloc or mimalloc, is not instrumented).
  setenv("ARROW_DEFAULT_MEMORY_POOL", "system", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  static fuzz::FuzzCatalog* catalog = new fuzz::FuzzCatalog();  // lives for the process
  std::string text(reinterpret_cast<const char*>(data), size);
  auto statements = sql::SplitStatements(text);
  if (!statements.ok()) {
    fuzz::RunStatement(text, catalog);
    return 0;
  }
  size_t n = 0;
  for (const auto& st : *statements) {
    if (n++ == fuzz::kMaxStatements) break;
    fuzz::RunStatement(st.text, catalog);
  }
  return 0;
}
