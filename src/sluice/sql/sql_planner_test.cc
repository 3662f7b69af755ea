#include "sluice/sql/sql_planner.h"

#include <gtest/gtest.h>

#include <map>

#include "sluice/plan/plan_builder.h"

namespace sluice::sql {
namespace {

class SchemaSource : public plan::TableSource {
 public:
  SchemaSource(std::string name, std::shared_ptr<arrow::Schema> schema)
      : name_(std::move(name)), schema_(std::move(schema)) {}
  std::string Describe() const override { return name_; }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

 private:
  std::string name_;
  std::shared_ptr<arrow::Schema> schema_;
};

class TestCatalog : public Catalog {
 public:
  TestCatalog() {
    tables_["t"] = arrow::schema(
        {arrow::field("a", arrow::int32()), arrow::field("b", arrow::int32()),
         arrow::field("s", arrow::utf8()), arrow::field("d", arrow::decimal128(10, 2))});
    tables_["u"] = arrow::schema(
        {arrow::field("a", arrow::int32()), arrow::field("c", arrow::int64())});
  }
  Result<plan::Plan> FindTable(const std::string& name) override {
    auto it = tables_.find(name);
    if (it == tables_.end()) return plan::Plan();
    return plan::MakeScan(std::make_shared<SchemaSource>(name, it->second));
  }
  Result<plan::Plan> CallTableFunction(
      const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
      const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>& named)
      override {
    if (name != "read_csv") return plan::Plan();
    std::string d = name + "(";
    for (const auto& a : args) d += a->ToString() + ";";
    for (const auto& [k, v] : named)
      d += k + "=" + v->ToString() + ":" + v->type->ToString() + ";";
    d += ")";
    return plan::MakeScan(std::make_shared<SchemaSource>(
        d, arrow::schema(
               {arrow::field("x", arrow::int64()), arrow::field("y", arrow::utf8())})));
  }
  Result<plan::Plan> SingleRow() override {
    return plan::MakeScan(std::make_shared<SchemaSource>("one_row", arrow::schema({})));
  }

 private:
  std::map<std::string, std::shared_ptr<arrow::Schema>> tables_;
};

// The plan for `sql` over TestCatalog's tables (t, u) and read_csv().
Result<plan::Plan> Plan(const std::string& sql) {
  TestCatalog catalog;
  return PlanQuery(sql, &catalog);
}

std::string Explain(const std::string& sql) {
  auto r = Plan(sql);
  if (!r.ok()) return "ERROR: " + r.status().ToString();
  return plan::ExplainPlan(*r);
}

std::string SchemaOf(const std::string& sql) {
  auto r = Plan(sql);
  if (!r.ok()) return "ERROR: " + r.status().ToString();
  return (*r)->schema->ToString();
}

// The error message (all lines), or "OK".
std::string ErrorOf(const std::string& sql) {
  auto r = Plan(sql);
  if (r.ok()) return "OK";
  EXPECT_TRUE(r.status().IsInvalid()) << r.status().ToString();
  return r.status().message();
}

// The first line of the error message.
std::string FirstLine(const std::string& sql) {
  std::string m = ErrorOf(sql);
  return m.substr(0, m.find('\n'));
}

const plan::ProjectNode& AsProject(const plan::Plan& p) {
  EXPECT_EQ(p->kind, plan::NodeKind::kProject);
  return static_cast<const plan::ProjectNode&>(*p);
}

std::vector<int> Indices(const std::vector<expr::Expr>& exprs) {
  std::vector<int> out;
  for (const auto& e : exprs)
    out.push_back(e->kind == expr::ExprKind::kColumn ? e->index : -1);
  return out;
}

// --- select list, literals ---------------------------------------------------------

TEST(SqlPlanner, SelectStarIsJustTheScan) {
  EXPECT_EQ(Explain("SELECT * FROM t"), "Scan t [a, b, s, d]\n");
  EXPECT_EQ(Explain("select * from T"), "Scan t [a, b, s, d]\n");
}

TEST(SqlPlanner, SelectExpressionsAndAliases) {
  EXPECT_EQ(Explain("SELECT a, b AS bee, a + 1, t.s FROM t"),
            "Project a, b AS bee, (a + 1), t.s AS s\n"
            "  Scan t [a, b, s, d]\n");
  EXPECT_EQ(SchemaOf("SELECT a, b AS bee, a + 1, t.s FROM t"),
            "a: int32\nbee: int32\n(a + 1): int32\ns: string");
  // Identifiers are case-insensitive unless quoted.
  EXPECT_EQ(SchemaOf("SELECT A, T.B FROM t"), "a: int32\nb: int32");
  EXPECT_EQ(FirstLine("SELECT \"A\" FROM t"), "OK");
}

TEST(SqlPlanner, LiteralTypesFollowDuckDB) {
  EXPECT_EQ(
      SchemaOf("SELECT 1, 3000000000, 99999999999999999999, 2.5, 0.05, 1e3, 'x', true, "
               "false, NULL"),
      "1: int32\n3000000000: int64\n99999999999999999999: decimal128(20, 0)\n"
      "2.5: decimal128(2, 1)\n0.05: decimal128(2, 2)\n1000: double\n'x': string\n"
      "true: bool\nfalse: bool\nNULL: null");
  EXPECT_EQ(
      SchemaOf("SELECT DATE '2025-01-01', TIMESTAMP '2025-01-01 10:00:00', "
               "INTERVAL '1 day', ARRAY[1, 2]"),
      "2025-01-01: date32[day]\n2025-01-01 10:00:00.000000: timestamp[us]\n"
      "0M1d0ns: month_day_nano_interval\nlist<item: int32>[1, 2]: list<item: int32>");
}

TEST(SqlPlanner, NegativeAndZeroIntegersSurviveTheParseTree) {
  // libpg_query 15 omits integer constants <= 0 from its JSON; they are read back.
  EXPECT_EQ(Explain("SELECT -3, 0, - 7, -(4), 1 - -2, ARRAY[-1, 0]"),
            "Project -3, 0, -7, -4, (1 - -2), list<item: int32>[-1, 0]\n"
            "  Scan one_row []\n");
  EXPECT_EQ(SchemaOf("SELECT CAST(d AS numeric(10, 0)) FROM t"),
            "CAST(d AS decimal128(10, 0)): decimal128(10, 0)");
}

TEST(SqlPlanner, IntervalLiterals) {
  EXPECT_EQ(
      Explain(
          "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.5', INTERVAL '1.5 hours', "
          "INTERVAL '2 weeks ago', INTERVAL '3' MONTH, '5 minutes'::interval"),
      "Project 14M3d14706500000000ns, 0M0d5400000000000ns, 0M-14d0ns, 3M0d0ns, "
      "0M0d300000000000ns\n"
      "  Scan one_row []\n");
  EXPECT_EQ(FirstLine("SELECT INTERVAL 'abc'"),
            "invalid interval 'abc': expected a number, got 'abc' at line 1, column 8");
}

TEST(SqlPlanner, Casts) {
  EXPECT_EQ(
      SchemaOf("SELECT CAST(a AS bigint), a::int8, a::int2, CAST(s AS numeric(10,2)), "
               "a::float, a::double precision, a::real, s::varchar(10), a::text, "
               "a::decimal, a::timestamp(3), CAST('7' AS smallint) FROM t"),
      "CAST(a AS int64): int64\nCAST(a AS int64): int64\nCAST(a AS int16): int16\n"
      "CAST(s AS decimal128(10, 2)): decimal128(10, 2)\nCAST(a AS float): float\n"
      "CAST(a AS double): double\nCAST(a AS float): float\nCAST(s AS string): string\n"
      "CAST(a AS string): string\nCAST(a AS decimal128(18, 3)): decimal128(18, 3)\n"
      "CAST(a AS timestamp[ms]): timestamp[ms]\n7: int16");
  EXPECT_EQ(FirstLine("SELECT CAST('abc' AS int)"),
            "cannot convert 'abc' to integer: Failed to parse string: 'abc' as a scalar "
            "of type "
            "int32 at line 1, column 8");
  EXPECT_EQ(FirstLine("SELECT a::time FROM t"),
            "unknown type 'time' at line 1, column 11");
  EXPECT_EQ(FirstLine("SELECT a::int[] FROM t"),
            "not supported yet: array types at line 1, column 11");
}

TEST(SqlPlanner, Operators) {
  EXPECT_EQ(
      Explain(
          "SELECT CASE a WHEN 1 THEN 'one' ELSE 'many' END, CASE WHEN b > 0 THEN 1 END, "
          "a IN (1, 2), a NOT IN (3), a BETWEEN 1 AND 5, a NOT BETWEEN 1 AND 5, "
          "s LIKE 'a%', s NOT ILIKE 'b%', a IS DISTINCT FROM b, "
          "a IS NOT DISTINCT FROM b FROM t"),
      "Project case((a = 1), 'one', 'many'), case((b > 0), 1), in(a, 1, 2), (NOT in(a, "
      "3)), "
      "between(a, 1, 5), (NOT between(a, 1, 5)), (s like 'a%'), (NOT (s ilike 'b%')), "
      "is_distinct_from(a, b), (NOT is_distinct_from(a, b))\n"
      "  Scan t [a, b, s, d]\n");
  EXPECT_EQ(
      Explain("SELECT COALESCE(a, b, 0), NULLIF(a, 0), GREATEST(a, b), LEAST(a, 1), "
              "EXTRACT(year FROM DATE '2020-01-01'), s || 'x', NOT (a > 1) OR b < 2 AND "
              "a = 1, "
              "a IS NULL, b IS NOT NULL, (a > 1) IS TRUE, -a, a % 2, cut(a, ARRAY[0, "
              "10]) FROM t"),
      "Project coalesce(a, b, 0), nullif(a, 0), greatest(a, b), least(a, 1), "
      "extract('year', 2020-01-01), (s || 'x'), ((NOT (a > 1)) or ((b < 2) and (a = "
      "1))), "
      "(a IS NULL), (b IS NOT NULL), is_true((a > 1)), (-a), (a % 2), "
      "cut(a, list<item: int32>[0, 10])\n"
      "  Scan t [a, b, s, d]\n");
}

// --- FROM and joins ------------------------------------------------------------------

TEST(SqlPlanner, CommaAndCrossJoinsHaveNoKeys) {
  std::string expected =
      "Join inner on [] = [] build=right\n"
      "  Scan t [a, b, s, d]\n"
      "  Scan u [a, c]\n";
  EXPECT_EQ(Explain("SELECT * FROM t, u"), expected);
  EXPECT_EQ(Explain("SELECT * FROM t CROSS JOIN u"), expected);
  EXPECT_EQ(
      FirstLine("SELECT a FROM t, u"),
      "column reference 'a' is ambiguous (t.a, u.a): qualify it with a table name at "
      "line 1, column 8");
}

TEST(SqlPlanner, JoinOnSplitsEquiKeysFromTheRest) {
  EXPECT_EQ(Explain("SELECT * FROM t JOIN u ON u.a = t.a AND t.b + 1 = u.c AND t.b > u.c "
                    "AND t.s = 'x'"),
            "Join inner on [t.a, CAST((t.b + 1) AS int64)] = [u.a, u.c] and ((CAST(t.b "
            "AS int64) > u.c) and "
            "(t.s = 'x')) build=right\n"
            "  Scan t [a, b, s, d]\n"
            "  Scan u [a, c]\n");
  // Right keys are bound against the right input: u.a is its column 0, u.c column 1.
  auto p = Plan("SELECT * FROM t LEFT JOIN u ON t.a = u.c");
  ASSERT_TRUE(p.ok()) << p.status();
  const auto& join = static_cast<const plan::JoinNode&>(**p);
  EXPECT_EQ(join.type, plan::JoinType::kLeft);
  // t.a (int32) = u.c (int64): the builder casts the left key to int64.
  EXPECT_EQ(expr::ToString(join.left_keys[0]), "CAST(t.a AS int64)");
  EXPECT_EQ(Indices(join.left_keys[0]->args), std::vector<int>{0});
  EXPECT_EQ(Indices(join.right_keys), std::vector<int>{1});
}

TEST(SqlPlanner, OuterJoinsKeepOneSidedTermsInTheCondition) {
  EXPECT_EQ(
      Explain(
          "SELECT x.a, y.a FROM t AS x FULL JOIN t AS y ON x.a = y.b AND y.s IS NULL"),
      "Project x.a AS a, y.a AS a\n"
      "  Join full on [x.a] = [y.b] and (y.s IS NULL) build=right\n"
      "    Scan t [a, b, s, d]\n"
      "    Scan t [a, b, s, d]\n");
  EXPECT_EQ(
      FirstLine("SELECT * FROM t JOIN t ON t.a = t.b"),
      "table name 't' specified more than once: give one of them an alias at line 1, "
      "column 22");
}

TEST(SqlPlanner, JoinUsingMergesTheKeyForStar) {
  EXPECT_EQ(SchemaOf("SELECT * FROM t JOIN u USING (a)"),
            "a: int32\nb: int32\ns: string\nd: decimal128(10, 2)\nc: int64");
  EXPECT_EQ(SchemaOf("SELECT * FROM t NATURAL JOIN u"),
            "a: int32\nb: int32\ns: string\nd: decimal128(10, 2)\nc: int64");
  // Bare `a` is the merged key: the left one for inner/left joins, the right one for
  // right joins; t.a and u.a stay reachable; t.* includes t's key.
  auto p = Plan("SELECT a, t.a, u.a, t.* FROM t JOIN u USING (a)");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Indices(AsProject(*p).exprs), (std::vector<int>{0, 0, 4, 0, 1, 2, 3}));
  p = Plan("SELECT a, t.a, u.a FROM t RIGHT JOIN u USING (a)");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Indices(AsProject(*p).exprs), (std::vector<int>{4, 0, 4}));
  // FULL: the merged key is COALESCE of both sides.
  EXPECT_EQ(Explain("SELECT * FROM t FULL JOIN u USING (a)"),
            "Project a, b, s, d, c\n"
            "  Project a, b, s, d, a, c, coalesce(a, a) AS a\n"
            "    Join full on [a] = [a] build=right\n"
            "      Scan t [a, b, s, d]\n"
            "      Scan u [a, c]\n");
  p = Plan("SELECT * FROM t FULL JOIN u USING (a)");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Indices(AsProject(*p).exprs), (std::vector<int>{6, 1, 2, 3, 5}));
  EXPECT_EQ(FirstLine("SELECT * FROM t JOIN u USING (a, a)"),
            "column 'a' appears more than once in USING at line 1, column 22");
  EXPECT_EQ(FirstLine("SELECT * FROM t JOIN u USING (b)"),
            "column 'b' in USING is not in the right table at line 1, column 22");
}

TEST(SqlPlanner, SubqueriesAndAliases) {
  EXPECT_EQ(Explain("SELECT q.x FROM (SELECT a AS x FROM t) q WHERE q.x > 1"),
            "Filter (q.x > 1)\n"
            "  Project a AS x\n"
            "    Scan t [a, b, s, d]\n");
  EXPECT_EQ(SchemaOf("SELECT * FROM t AS z(p, q) WHERE z.q > 0"),
            "p: int32\nq: int32\ns: string\nd: decimal128(10, 2)");
  EXPECT_EQ(FirstLine("SELECT t.a FROM t AS z"),
            "unknown table 't' in column reference t.a (tables in FROM: z) at line 1, "
            "column 8");
}

TEST(SqlPlanner, TableFunctionsGetConstantArguments) {
  EXPECT_EQ(
      Explain("SELECT * FROM read_csv('data/' || 'x.csv', header => true, delim := '|') "
              "AS r(k) WHERE r.y = 'a'"),
      "Project k, y\n"
      "  Filter (r.y = 'a')\n"
      "    Scan read_csv(data/x.csv;header=true:bool;delim=|:string;) [x, y]\n");
  EXPECT_EQ(FirstLine("SELECT * FROM read_json('p')"),
            "unknown table function 'read_json' at line 1, column 15");
  EXPECT_EQ(
      FirstLine("SELECT * FROM t, read_csv(t.a)"),
      "column references are not allowed in table function arguments (t.a) at line 1, "
      "column 27");
}

TEST(SqlPlanner, CtesCanBeUsedTwiceWithoutSharingNodes) {
  auto p = Plan(
      "WITH c AS (SELECT a, count(*) AS n FROM t GROUP BY a), "
      "d(x, y) AS (SELECT * FROM c WHERE n > 1) "
      "SELECT * FROM c JOIN d ON c.a = d.x");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(plan::ExplainPlan(*p),
            "Project a, n, x, y\n"
            "  Join inner on [c.a] = [d.x] build=right\n"
            "    Project a, count_star() AS n\n"
            "      Aggregate keys=[a] aggs=[count_star(*)]\n"
            "        Scan t [a, b, s, d]\n"
            "    Filter (n > 1)\n"
            "      Project a, count_star() AS n\n"
            "        Aggregate keys=[a] aggs=[count_star(*)]\n"
            "          Scan t [a, b, s, d]\n");
  const auto& join = *(*p)->inputs[0];
  EXPECT_NE(join.inputs[0].get(), join.inputs[1]->inputs[0].get());
  // A CTE is visible only in its statement.
  EXPECT_EQ(FirstLine("SELECT * FROM (WITH c AS (SELECT 1 AS one) SELECT * FROM c) q, c"),
            "unknown table 'c' at line 1, column 64");
}

// --- aggregation ---------------------------------------------------------------------

TEST(SqlPlanner, AggregatesInsideExpressionsAreSplitOut) {
  EXPECT_EQ(
      Explain("SELECT s, sum(a) / count(*), round(avg(b), 2) AS r FROM t GROUP BY s"),
      "Project s, (CAST(sum(a) AS double) / CAST(count_star() AS double)) AS "
      "(sum(a) / count_star()), round(avg(b), 2) AS r\n"
      "  Aggregate keys=[s] aggs=[sum(a), count_star(*), avg(b)]\n"
      "    Scan t [a, b, s, d]\n");
  EXPECT_EQ(
      SchemaOf("SELECT s, sum(a) / count(*), round(avg(b), 2) AS r FROM t GROUP BY s"),
      "s: string\n(sum(a) / count_star()): double\nr: double");
  // Expressions equal to a group key use the key column.
  EXPECT_EQ(Explain("SELECT (a + 1) * 2, count(*) FROM t GROUP BY a + 1"),
            "Project ((a + 1) * 2), count_star()\n"
            "  Aggregate keys=[(a + 1)] aggs=[count_star(*)]\n"
            "    Scan t [a, b, s, d]\n");
  EXPECT_EQ(Explain("SELECT count(*) FROM t"),
            "Aggregate keys=[] aggs=[count_star(*)]\n"
            "  Scan t [a, b, s, d]\n");
}

TEST(SqlPlanner, GroupByOrdinalsAndAliases) {
  std::string expected =
      "Project (a + 1) AS x, count_star()\n"
      "  Aggregate keys=[(a + 1)] aggs=[count_star(*)]\n"
      "    Scan t [a, b, s, d]\n";
  EXPECT_EQ(Explain("SELECT a + 1 AS x, count(*) FROM t GROUP BY 1"), expected);
  EXPECT_EQ(Explain("SELECT a + 1 AS x, count(*) FROM t GROUP BY x"), expected);
  // A FROM column wins over a select alias of the same name (PostgreSQL).
  EXPECT_EQ(
      Explain("SELECT b AS a, count(*) FROM t GROUP BY a"),
      "ERROR: Invalid: column 'b' must appear in the GROUP BY clause or be used in an "
      "aggregate function at line 1, column 8\n"
      "  SELECT b AS a, count(*) FROM t GROUP BY a\n"
      "         ^");
  EXPECT_EQ(FirstLine("SELECT count(*) FROM t GROUP BY 1"),
            "aggregate functions are not allowed in GROUP BY at line 1, column 33");
}

TEST(SqlPlanner, SpecialAggregates) {
  EXPECT_EQ(
      Explain("SELECT count(DISTINCT a), quantile(b, 0.9), "
              "percentile_cont(0.25) WITHIN GROUP (ORDER BY b DESC), "
              "string_agg(s, '|'), string_agg(s), median(d) FROM t"),
      "Aggregate keys=[] aggs=[count(DISTINCT a), quantile(b, 0.9), quantile(b, 0.75), "
      "string_agg(s, |), string_agg(s, ,), median(d)]\n"
      "  Scan t [a, b, s, d]\n");
  auto p = Plan("SELECT string_agg(s, '|') FROM t");
  ASSERT_TRUE(p.ok()) << p.status();
  const auto& agg = static_cast<const plan::AggregateNode&>(**p);
  ASSERT_EQ(agg.aggregates[0]->args.size(), 1u);
  EXPECT_EQ(agg.aggregates[0]->options[0]->ToString(), "|");
  EXPECT_EQ(
      FirstLine("SELECT quantile(b, 2) FROM t"),
      "quantile(): the fraction must be between 0 and 1, got 2 at line 1, column 20");
}

TEST(SqlPlanner, HavingAndOrderByAggregates) {
  EXPECT_EQ(
      Explain("SELECT s, count(*) FROM t GROUP BY s HAVING sum(a) > 10 ORDER BY max(b)"),
      "Project s, count_star()\n"
      "  Sort by __order_2 asc nulls last\n"
      "    Project s, count_star(), max(b) AS __order_2\n"
      "      Filter (sum(a) > 10)\n"
      "        Aggregate keys=[s] aggs=[count_star(*), sum(a), max(b)]\n"
      "          Scan t [a, b, s, d]\n");
}

TEST(SqlPlanner, AggregateErrors) {
  EXPECT_EQ(
      ErrorOf("SELECT a, count(*) FROM t"),
      "column 'a' must appear in the GROUP BY clause or be used in an aggregate function "
      "at line 1, column 8\n"
      "  SELECT a, count(*) FROM t\n"
      "         ^");
  EXPECT_EQ(
      FirstLine("SELECT s FROM t GROUP BY a"),
      "column 's' must appear in the GROUP BY clause or be used in an aggregate function "
      "at line 1, column 8");
  EXPECT_EQ(FirstLine("SELECT a FROM t WHERE sum(a) > 1"),
            "aggregate functions are not allowed in WHERE at line 1, column 23");
  EXPECT_EQ(FirstLine("SELECT sum(count(a)) FROM t"),
            "aggregate function calls cannot be nested at line 1, column 12");
  EXPECT_EQ(FirstLine("SELECT 1, sum(s) FROM t"),
            "sum() needs a numeric argument, got varchar in sum(s) AS sum(s) at line 1, "
            "column 11");
}

// --- ORDER BY, DISTINCT, LIMIT -------------------------------------------------------

TEST(SqlPlanner, OrderByHiddenColumnIsProjectedAway) {
  EXPECT_EQ(Explain("SELECT a FROM t ORDER BY b DESC, s NULLS FIRST"),
            "Project a\n"
            "  Sort by __order_1 desc nulls first, __order_2 asc nulls first\n"
            "    Project a, b AS __order_1, s AS __order_2\n"
            "      Scan t [a, b, s, d]\n");
  EXPECT_EQ(SchemaOf("SELECT a FROM t ORDER BY b DESC"), "a: int32");
}

TEST(SqlPlanner, OrderByAliasOrdinalAndSelectedExpression) {
  std::string expected =
      "Sort by x asc nulls last, b desc nulls first\n"
      "  Project (a + 1) AS x, b\n"
      "    Scan t [a, b, s, d]\n";
  EXPECT_EQ(Explain("SELECT a + 1 AS x, b FROM t ORDER BY x, 2 DESC"), expected);
  EXPECT_EQ(Explain("SELECT a + 1 AS x, b FROM t ORDER BY a + 1, b DESC NULLS FIRST"),
            expected);
  EXPECT_EQ(FirstLine("SELECT a, b FROM t ORDER BY 3"),
            "ORDER BY position 3 is not in the select list at line 1, column 29");
}

TEST(SqlPlanner, DistinctAndLimit) {
  EXPECT_EQ(Explain("SELECT DISTINCT a, s FROM t ORDER BY s LIMIT 10 OFFSET 5"),
            "Limit 10 offset 5\n"
            "  Sort by s asc nulls last\n"
            "    Aggregate keys=[a, s] aggs=[]\n"
            "      Project a, s\n"
            "        Scan t [a, b, s, d]\n");
  EXPECT_EQ(Explain("SELECT * FROM t LIMIT ALL OFFSET 2"),
            "Limit -1 offset 2\n"
            "  Scan t [a, b, s, d]\n");
  EXPECT_EQ(FirstLine("SELECT DISTINCT a FROM t ORDER BY b"),
            "for SELECT DISTINCT, ORDER BY expressions must appear in the select list at "
            "line 1, "
            "column 35");
  EXPECT_EQ(FirstLine("SELECT a FROM t LIMIT -1"),
            "LIMIT must not be negative at line 1, column 23");
  EXPECT_EQ(FirstLine("SELECT a FROM t LIMIT a"),
            "column references are not allowed in LIMIT (a) at line 1, column 23");
}

// --- set operations ------------------------------------------------------------------

TEST(SqlPlanner, UnionAllFlattensAndUnifiesTypes) {
  EXPECT_EQ(Explain("SELECT a FROM t UNION ALL SELECT c FROM u UNION ALL SELECT 1 "
                    "ORDER BY 1 DESC LIMIT 3"),
            "Limit 3 offset 0\n"
            "  Sort by a desc nulls first\n"
            "    UnionAll\n"
            "      Project CAST(a AS int64) AS a\n"
            "        Project a\n"
            "          Scan t [a, b, s, d]\n"
            "      Project c\n"
            "        Scan u [a, c]\n"
            "      Project CAST(1 AS int64) AS a\n"
            "        Project 1\n"
            "          Scan one_row []\n");
  EXPECT_EQ(Explain("SELECT a FROM t UNION SELECT a FROM u"),
            "Aggregate keys=[a] aggs=[]\n"
            "  UnionAll\n"
            "    Project a\n"
            "      Scan t [a, b, s, d]\n"
            "    Project a\n"
            "      Scan u [a, c]\n");
}

TEST(SqlPlanner, IntersectAndExceptAreNullSafeSemiAndAntiJoins) {
  EXPECT_EQ(
      Explain("SELECT a, s FROM t INTERSECT SELECT a, 'x' FROM u"),
      "Aggregate keys=[a, s] aggs=[]\n"
      "  Join semi on [coalesce(a, 0), (a IS NULL), coalesce(s, ''), (s IS NULL)] = "
      "[coalesce(a, 0), (a IS NULL), coalesce('x', ''), ('x' IS NULL)] build=right\n"
      "    Project a, s\n"
      "      Scan t [a, b, s, d]\n"
      "    Project a, 'x'\n"
      "      Scan u [a, c]\n");
  auto p = Plan("SELECT a FROM t EXCEPT SELECT c FROM u");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(static_cast<const plan::JoinNode&>(*(*p)->inputs[0]).type,
            plan::JoinType::kAnti);
  EXPECT_EQ(FirstLine("SELECT a, b FROM t EXCEPT SELECT c FROM u"),
            "each EXCEPT query must have the same number of columns (2 and 1) at line 1, "
            "column 34");
}

// --- errors --------------------------------------------------------------------------

TEST(SqlPlanner, ErrorsPointAtTheirPosition) {
  EXPECT_EQ(ErrorOf("SELECT z FROM t"),
            "unknown column 'z' (columns: a, b, s, d) at line 1, column 8\n"
            "  SELECT z FROM t\n"
            "         ^");
  EXPECT_EQ(ErrorOf("SELECT a\nFROM nope"),
            "unknown table 'nope' at line 2, column 6\n"
            "  FROM nope\n"
            "       ^");
  EXPECT_EQ(ErrorOf("SELECT a,\n  FROM t"),
            "syntax error at or near \"FROM\" at line 2, column 3\n"
            "    FROM t\n"
            "    ^");
  // Columns count characters, not bytes.
  EXPECT_EQ(ErrorOf("SELECT 'é' || z FROM t"),
            "unknown column 'z' (columns: a, b, s, d) at line 1, column 15\n"
            "  SELECT 'é' || z FROM t\n"
            "                ^");
  EXPECT_EQ(FirstLine("SELECT foo(a) FROM t"),
            "unknown function 'foo' at line 1, column 8");
  EXPECT_EQ(FirstLine("SELECT lower(s, 1) FROM t"),
            "lower() takes 1 arguments, got 2 at line 1, column 8");
}

TEST(SqlPlanner, TypeErrorsPointAtTheInnermostFailingExpression) {
  EXPECT_EQ(
      FirstLine("SELECT a FROM t WHERE b > 0 AND s + 1 > 2"),
      "cannot apply + to varchar and integer in (s + 1) (use || or concat() for strings) "
      "at line 1, column 35");
  EXPECT_EQ(FirstLine("SELECT 1, upper(a) FROM t"),
            "upper() needs a string, got integer (a) at line 1, column 11");
  EXPECT_EQ(FirstLine("SELECT a FROM t WHERE a"),
            "filter condition must be boolean, got integer: a at line 1, column 23");
}

TEST(SqlPlanner, UnsupportedConstructsSaySo) {
  EXPECT_EQ(FirstLine("SELECT sum(a) OVER w FROM t"),
            "not supported yet: named windows (WINDOW w AS ...) at line 1, column 8");
  EXPECT_EQ(FirstLine("SELECT a FROM t WHERE rank() OVER (ORDER BY a) = 1"),
            "window functions are not allowed in WHERE at line 1, column 23");
  EXPECT_EQ(FirstLine("SELECT a FROM t JOIN u ON t.a IN (SELECT 1)"),
            "not supported yet: subqueries in JOIN condition at line 1, column 31");
  EXPECT_EQ(FirstLine("SELECT a FROM t ORDER BY (SELECT 1)"),
            "not supported yet: subqueries in ORDER BY at line 1, column 26");
  EXPECT_EQ(FirstLine("INSERT INTO t VALUES (1)"),
            "not supported yet: INSERT at line 1, column 1");
  EXPECT_EQ(FirstLine("SELECT * FROM t, LATERAL (SELECT 1) q"),
            "not supported yet: LATERAL at line 1, column 34");
  EXPECT_EQ(FirstLine("WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r"),
            "not supported yet: WITH RECURSIVE at line 1, column 1");
  EXPECT_EQ(FirstLine("SELECT DISTINCT ON (a) a FROM t"),
            "not supported yet: DISTINCT ON at line 1, column 21");
  EXPECT_EQ(FirstLine("SELECT a FROM t GROUP BY ROLLUP (a)"),
            "not supported yet: GROUPING SETS, ROLLUP and CUBE at line 1, column 26");
  EXPECT_EQ(FirstLine("SELECT a FROM t; SELECT 2"),
            "expected one statement, got 2 at line 1, column 18");
  EXPECT_EQ(FirstLine(""),
            "empty query: expected a SELECT statement at line 1, column 1");
}

TEST(SqlPlanner, SelectWithoutFromUsesTheCatalogsSingleRow) {
  EXPECT_EQ(Explain("SELECT 1 + 1 AS two"),
            "Project (1 + 1) AS two\n"
            "  Scan one_row []\n");
  class NoRows : public TestCatalog {
   public:
    Result<plan::Plan> SingleRow() override { return Catalog::SingleRow(); }
  } catalog;
  auto r = PlanQuery("SELECT 1", &catalog);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().substr(0, 52),
            "SELECT without FROM is not supported by this catalog");
}

TEST(SqlPlanner, CatalogErrorsKeepTheirCode) {
  class Failing : public TestCatalog {
   public:
    Result<plan::Plan> FindTable(const std::string& name) override {
      return Status::IOError("cannot open ", name);
    }
  } catalog;
  auto r = PlanQuery("SELECT * FROM t", &catalog);
  ASSERT_TRUE(r.status().IsIOError()) << r.status();
  EXPECT_EQ(r.status().message().substr(0, r.status().message().find('\n')),
            "cannot open t at line 1, column 15");
}

TEST(SqlPlanner, OddQueriesNeverCrash) {
  const char* queries[] = {
      "SELECT",
      "SELECT FROM t",
      "SELECT * FROM t WHERE",
      "SELECT a FROM (SELECT 1) AS q(x, y)",
      "SELECT count(*) FROM t GROUP BY ()",
      "SELECT a FROM t ORDER BY a USING <",
      "SELECT a FROM t ORDER BY a FETCH FIRST 1 ROWS WITH TIES",
      "SELECT * FROM t TABLESAMPLE bernoulli(10)",
      "SELECT $1",
      "SELECT CURRENT_DATE",
      "SELECT (1, 2)",
      "SELECT s COLLATE \"C\" FROM t",
      "SELECT t FROM t",
      "SELECT x.y.z.w FROM t",
      "VALUES (1)",
      "SELECT 1 UNION SELECT 1, 2",
      "SELECT sum(*) FROM t",
      "SELECT lower(x => 1)",
      "SELECT 9223372036854775808",
      "SELECT 1::interval",
      "SELECT CAST(NULL AS interval)",
      "SELECT ARRAY[]",
      "SELECT ARRAY[a] FROM t",
      "SELECT a FROM t GROUP BY 0",
      "SELECT * FROM t JOIN u USING (a, a)",
      "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY a) FROM t",
      "SELECT string_agg(s, s) FROM t",
      "SELECT quantile(a, b) FROM t",
      "SELECT a FROM t LIMIT 1.5",
      "SELECT a FROM t OFFSET NULL",
      "SELECT * FROM t NATURAL FULL JOIN u",
      "WITH c AS (SELECT 1), c AS (SELECT 2) SELECT * FROM c",
      "WITH c(x, y) AS (SELECT 1) SELECT * FROM c",
      "SELECT x FROM t, LATERAL read_csv('a')",
      "SELECT * FROM read_csv('a') WITH ORDINALITY",
      "SELECT INTERVAL '1' YEAR TO MONTH",
      "SELECT -a::int8 FROM t",
      "EXPLAIN SELECT 1",
      "SELECT 1; ",
      "  \n SELECT  z",
      "SELECT * FROM (t JOIN u USING (a)) AS j",
      "SELECT a FROM t WHERE a = ALL (ARRAY[1])",
      "SELECT 1 FROM t GROUP BY GROUPING SETS ((a), ())",
      "SELECT a FROM t FOR UPDATE",
      "SELECT a INTO x FROM t",
      "SELECT a FROM t WINDOW w AS ()",
      "SELECT count(a ORDER BY a) FROM t",
      "SELECT sum(a) FILTER (WHERE a > 1) FROM t",
      "SELECT t.* FROM u",
      "SELECT z.* FROM t",
      "SELECT (a).x FROM t",
      "SELECT a[1] FROM t",
      "SELECT a FROM t WHERE s SIMILAR TO 'x'",
      "SELECT a FROM t WHERE a BETWEEN SYMMETRIC 1 AND 2",
      "SELECT 'a' ~ 'b', 2 ^ 3, @ 1",
      "SELECT * FROM t, t AS t",
      "SELECT * FROM pg_catalog.t",
      "SELECT * FROM a.b.c",
      "SELECT d::numeric(50, 2) FROM t",
      "SELECT a FROM t ORDER BY count(*)",
      "SELECT DISTINCT count(*) FROM t HAVING count(*) > 1 ORDER BY 1",
      "SELECT a FROM t UNION ALL (SELECT a FROM u ORDER BY a LIMIT 1) ORDER BY 1",
      "SELECT a FROM t INTERSECT ALL SELECT a FROM u",
      "SELECT * FROM read_csv()",
      "SELECT * FROM read_csv(1 + 'x')",
      "SELECT timestamp '2025-13-45'",
      "SELECT DATE 'x'"};
  for (const char* q : queries) {
    auto r = Plan(q);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalid()) << q << ": " << r.status();
      EXPECT_NE(r.status().message().find(" at line "), std::string::npos) << q;
    }
  }
}

// --- scripts -------------------------------------------------------------------------

TEST(SplitStatements, SplitsAtTopLevelSemicolons) {
  auto r = SplitStatements("SELECT 'a;b' FROM t;\n  -- c;\nSELECT 2 ;;\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].text, "SELECT 'a;b' FROM t");
  EXPECT_EQ((*r)[0].offset, 0);
  EXPECT_EQ((*r)[1].text, "-- c;\nSELECT 2");
  EXPECT_EQ((*r)[1].offset, 23);
  // A statement that does not parse is an error, never dropped.
  auto bad = SplitStatements("SELECT 1; SELEC 2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos)
      << bad.status();
}

TEST(CompleteStatementsLength, EndsAtTheLastTopLevelSemicolon) {
  EXPECT_EQ(CompleteStatementsLength(""), 0u);
  EXPECT_EQ(CompleteStatementsLength("SELECT 1"), 0u);
  EXPECT_EQ(CompleteStatementsLength("SELECT 1;"), 9u);
  EXPECT_EQ(CompleteStatementsLength("SELECT 1; SELECT 2"), 9u);
  EXPECT_EQ(CompleteStatementsLength("SELECT 1; SELECT 2;\n"), 19u);
  // Semicolons in strings, quoted identifiers and comments do not end a statement.
  EXPECT_EQ(CompleteStatementsLength("SELECT 'a;b' AS \"c;d\" /* ; */ -- ;\n"), 0u);
  EXPECT_EQ(CompleteStatementsLength("SELECT 1; SELECT 'a;"), 0u);  // unterminated
  EXPECT_EQ(CompleteStatementsLength("SELECT 1; -- done;\n"), 9u);
}

// --- subqueries in expressions -----------------------------------------------------

TEST(SqlPlanner, ExistsAndInInWhereBecomeSemiAndAntiJoins) {
  EXPECT_EQ(
      Explain("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a) "
              "AND NOT EXISTS (SELECT 1 FROM u WHERE u.c = t.b AND u.a <> t.a)"),
      "Project a\n"
      "  Join anti on [CAST(t.b AS int64)] = [__key1] and (u.a <> t.a) build=right\n"
      "    Join semi on [t.a] = [__key1] build=right\n"
      "      Scan t [a, b, s, d]\n"
      "      Project 1, u.a AS __key1\n"
      "        Scan u [a, c]\n"
      "    Project 1, u.c AS __key1, a AS __inner0\n"
      "      Scan u [a, c]\n");
  EXPECT_EQ(Explain("SELECT a FROM t WHERE b IN (SELECT c FROM u)"),
            "Project a\n"
            "  Join semi on [CAST(b AS int64)] = [c] build=right\n"
            "    Scan t [a, b, s, d]\n"
            "    Project c\n"
            "      Scan u [a, c]\n");
}

TEST(SqlPlanner, CorrelatedAggregatesAreGroupedByTheirKeysAndLeftJoined) {
  // The subquery groups by its correlation key; the outer query LEFT joins on it.
  EXPECT_EQ(Explain("SELECT a FROM t WHERE b < (SELECT sum(c) FROM u WHERE u.a = t.a)"),
            "Project a\n"
            "  Filter (CAST(b AS int64) < __c0)\n"
            "    Join left on [t.a] = [__c1] build=right\n"
            "      Scan t [a, b, s, d]\n"
            "      Project sum(c) AS __c0, __key1 AS __c1\n"
            "        Project sum(c), a AS __key1\n"
            "          Aggregate keys=[u.a] aggs=[sum(c)]\n"
            "            Scan u [a, c]\n");
}

TEST(SqlPlanner, SubqueryErrorsNameThePlace) {
  EXPECT_EQ(FirstLine("SELECT a FROM t WHERE a IN (SELECT a, c FROM u)"),
            "the subquery returns 2 columns; it must return exactly one here at line 1, "
            "column 25");
  EXPECT_EQ(
      FirstLine("SELECT (SELECT c + t.b FROM u WHERE u.a = t.a) FROM t"),
      "not supported yet: a reference to the enclosing query ('t.b') in SELECT of a "
      "subquery (only in its WHERE) at line 1, column 20");
  EXPECT_EQ(FirstLine("SELECT a FROM t WHERE a = ANY (SELECT a FROM u) OR a > ALL "
                      "(SELECT c FROM u)"),
            "not supported yet: ALL (subquery) with operator > at line 1, column 54");
}

}  // namespace
}  // namespace sluice::sql
