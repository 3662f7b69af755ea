#pragma once
// SQL text -> logical plan.
//
// The query is parsed by libpg_query (the PostgreSQL 15 grammar) and bound by our own
// binder: names are resolved against the Catalog, expressions become expr::Expr with
// positions, and the plan is built with plan/plan_builder.h. See docs/design/sql.md for
// what is supported and the semantic decisions (literal types, USING joins, aggregates).
//
// Thread-safety: PlanQuery may run concurrently on different threads; the Catalog is
// called only from the calling thread, during the call.
#include <arrow/scalar.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/connector/writer/file_writer.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::sql {

/// Resolves names the query refers to. Implemented by the job runner / API session.
/// Plans returned are copied by the planner before use, so a catalog may hand out the
/// same plan for every call.
class Catalog {
 public:
  virtual ~Catalog() = default;

  /// A table, source or earlier job step by name (case-insensitive); a null plan with
  /// OK if unknown. `name` is "schema.table" when the query qualified it.
  virtual Result<plan::Plan> FindTable(const std::string& name) = 0;

  /// Table functions such as read_parquet('glob'), read_csv('path', header => true,
  /// delim => '|'), read_json('path'): positional constant args and named constant
  /// args (name => value or name := value). A null plan with OK if `name` is unknown.
  virtual Result<plan::Plan> CallTableFunction(
      const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
      const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>&
          named_args) = 0;

  /// A relation with exactly one row and no columns, the input of a SELECT without
  /// FROM (`SELECT 1 + 1`). The default refuses: planning needs no data, but only the
  /// runner knows how to make a source it can execute.
  virtual Result<plan::Plan> SingleRow();
};

/// Parses and binds one SELECT statement (possibly with WITH / UNION / INTERSECT /
/// EXCEPT). Errors (syntax and binding) are Status::Invalid with a first line ending in
/// the position, followed by the offending line of the query and a caret under the
/// position:
///   unknown column 'z' (columns: a, b) at line 1, column 8
///     SELECT z FROM t
///            ^
/// Errors the catalog returns keep their status code (e.g. IOError) and get the same
/// position suffix.
Result<plan::Plan> PlanQuery(const std::string& sql, Catalog* catalog);

/// A statement other than a plain query, planned; executed by job::SqlSession.
enum class StatementKind {
  kQuery,        // SELECT ...: `plan`
  kCreateView,   // CREATE [OR REPLACE] VIEW name [(cols)] AS query
  kCreateTable,  // CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [(cols)] AS query
  kInsert,       // INSERT INTO name [(cols)] query
  kCopy,         // COPY (query) | name TO 'path' [(FORMAT ..., ...)]
  kDrop,         // DROP VIEW | TABLE [IF EXISTS] name
  kExplain,      // EXPLAIN [ANALYZE] query: `plan` is the query's, `analyze` set
};

struct PlannedStatement {
  StatementKind kind = StatementKind::kQuery;
  /// The query: the view body, the rows to create / insert / copy. Null for kDrop.
  plan::Plan plan;
  /// The view or table created, inserted into or dropped.
  std::string name;
  bool or_replace = false;
  bool if_not_exists = false;  // CREATE ... IF NOT EXISTS, DROP ... IF EXISTS
  bool analyze = false;        // EXPLAIN ANALYZE: run the query and annotate its plan
  /// kInsert: the target columns listed (empty: all, in order).
  std::vector<std::string> columns;
  /// kCopy: where and how to write (path, format, compression, partition_by, ...).
  connector::WriteOptions write;
};

/// Parses and binds one statement of any supported kind. A query plans as PlanQuery
/// does; names are resolved against `catalog` as it is now (a script registers each
/// statement's results before planning the next one).
Result<PlannedStatement> PlanStatement(const std::string& sql, Catalog* catalog);

/// One statement of a script.
struct Statement {
  std::string text;  // without the terminating ';' and surrounding whitespace
  int offset = 0;    // byte offset of `text` in the script
};

/// Splits a script into statements at top-level semicolons (ignoring those in strings,
/// quoted identifiers and comments). Empty statements are dropped.
Result<std::vector<Statement>> SplitStatements(const std::string& script);

/// The length of the longest prefix of `text` made of whole statements: up to and
/// including the last top-level ';' (one in a string, quoted identifier or comment
/// does not count). 0 when no statement is complete yet, or when the text does not
/// scan (an unterminated string may still be closed by more text).
size_t CompleteStatementsLength(const std::string& text);

}  // namespace sluice::sql
