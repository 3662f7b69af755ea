#pragma once
// Running SQL statements one after another against one catalog (`sluice sql` with a
// script, the C++ API): a query returns its rows; CREATE VIEW registers a plan;
// CREATE TABLE ... AS runs its query and keeps the rows in memory; INSERT INTO appends
// to such a table; COPY ... TO writes files (atomically, as sinks do); DROP forgets a
// name.
//
// Tables created here are held in memory and stay accounted against the context's
// memory budget (one reservation per table) until dropped or the session ends. INSERT
// casts the new rows to the table's column types (by position, or by the column list
// given, NULL for unlisted columns) and fails before changing anything if one does not
// convert. Not thread-safe.
#include <arrow/table.h>

#include <map>
#include <memory>
#include <string>

#include "sluice/base/memory.h"
#include "sluice/exec/exec_context.h"
#include "sluice/job/catalog.h"
#include "sluice/sql/sql_planner.h"

namespace sluice::job {

struct StatementResult {
  sql::StatementKind kind = sql::StatementKind::kQuery;
  /// kQuery: the rows.
  std::shared_ptr<arrow::Table> rows;
  /// Rows created, inserted or written (kCreateTable, kInsert, kCopy); kExplain with
  /// ANALYZE: rows the query returned.
  int64_t affected = 0;
  /// A one-line note for the terminal, e.g. "CREATE TABLE t: 42 rows".
  std::string message;
  /// kExplain: the plans (with ANALYZE, annotated with rows, time and peak memory per
  /// operator, and the query's wall time), for standard output.
  std::string text;
};

class SqlSession {
 public:
  SqlSession(Catalog* catalog, exec::ExecContext* ctx) : catalog_(catalog), ctx_(ctx) {}

  /// Plans and runs one statement.
  Result<StatementResult> Execute(const std::string& sql);
  /// Runs an already planned statement.
  Result<StatementResult> Execute(const sql::PlannedStatement& statement);

 private:
  struct OwnedTable {
    std::shared_ptr<arrow::Table> table;
    MemoryReservation reservation;
  };
  Result<StatementResult> CreateTable(const sql::PlannedStatement& s);
  Result<StatementResult> Insert(const sql::PlannedStatement& s);
  /// Registers `table` under `name`, accounting its memory.
  Status Keep(const std::string& name, std::shared_ptr<arrow::Table> table);

  Catalog* catalog_;
  exec::ExecContext* ctx_;
  std::map<std::string, OwnedTable> tables_;  // by lower-case name
  std::map<std::string, bool> views_;         // lower-case names of views created here
};

}  // namespace sluice::job
