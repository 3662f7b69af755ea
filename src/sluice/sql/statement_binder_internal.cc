// Statements other than queries: CREATE VIEW, CREATE TABLE AS, INSERT INTO ... query,
// COPY ... TO, DROP. Binding only plans the query part and reads the options; the
// session (job/sql_session.h) carries them out.
#include <algorithm>
#include <cctype>

#include "sluice/base/duration.h"
#include "sluice/base/text.h"
#include "sluice/expr/types.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/sql/literals_internal.h"
#include "sluice/sql/query_binder_internal.h"
#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

using expr::Expr;
using plan::Plan;

namespace {

Result<std::string> TableName(const PgNode& range_var) {
  int position = range_var.Location();
  if (range_var.Has("catalogname") || range_var.Has("schemaname")) {
    return NotSupported(position, "qualified names (schema.table) here");
  }
  return std::string(range_var.String("relname"));
}

// The value of a COPY option: a string, a number, TRUE for a bare option, or a list.
struct OptionValue {
  std::string text;
  std::vector<std::string> list;
  bool present = false;
  bool is_list = false;
};

Result<OptionValue> ReadOption(const PgNode& def) {
  OptionValue v;
  PgNode arg = def.Node("arg");
  if (!arg) return v;  // a bare option, e.g. HEADER
  v.present = true;
  if (arg.Is("String")) {
    v.text = std::string(arg.String("sval"));
  } else if (arg.Is("Integer")) {
    v.text = std::to_string(arg.Int("ival", 0));
  } else if (arg.Is("Float")) {
    v.text = std::string(arg.String("fval"));
  } else if (arg.Is("Boolean")) {
    v.text = arg.Bool("boolval") ? "true" : "false";
  } else if (arg.Is("List")) {
    v.is_list = true;
    for (const auto& item : arg.List("items")) v.list.emplace_back(StringValue(item));
  } else if (arg.Is("A_Star")) {
    v.text = "*";
  } else {
    return ErrorAt(def.Location(), "cannot read the value of option '",
                   def.String("defname"), "'");
  }
  return v;
}

Result<bool> BoolOption(const PgNode& def, const OptionValue& v) {
  if (!v.present) return true;
  std::string t = AsciiLower(v.text);
  if (t == "true" || t == "1" || t == "on") return true;
  if (t == "false" || t == "0" || t == "off") return false;
  return ErrorAt(def.Location(), "option '", def.String("defname"),
                 "' must be true or false, got '", v.text, "'");
}

}  // namespace

Result<PlannedStatement> QueryBinder::BindAnyStatement(const PgNode& raw_stmt) {
  PgNode stmt = raw_stmt.Node("stmt");
  int position = static_cast<int>(raw_stmt.Int("stmt_location", 0));
  if (!stmt) return ErrorAt(position, "empty statement");
  if (stmt.Is("ViewStmt")) return BindCreateView(stmt, position);
  if (stmt.Is("CreateTableAsStmt")) return BindCreateTableAs(stmt, position);
  if (stmt.Is("InsertStmt")) return BindInsert(stmt, position);
  if (stmt.Is("CopyStmt")) return BindCopy(stmt, position);
  if (stmt.Is("DropStmt")) return BindDrop(stmt, position);
  if (stmt.Is("ExplainStmt")) return BindExplain(stmt, position);
  PlannedStatement s;
  ARROW_ASSIGN_OR_RAISE(s.plan, BindStatement(raw_stmt));
  return s;
}

Result<PlannedStatement> QueryBinder::BindExplain(const PgNode& stmt, int position) {
  PlannedStatement s;
  s.kind = StatementKind::kExplain;
  for (const auto& def : stmt.List("options")) {
    std::string name = AsciiLower(def.String("defname"));
    ARROW_ASSIGN_OR_RAISE(OptionValue v, ReadOption(def));
    if (name == "analyze") {
      ARROW_ASSIGN_OR_RAISE(s.analyze, BoolOption(def, v));
    } else {
      return NotSupported(def.Location(), "EXPLAIN option '" + name + "' (only ANALYZE)");
    }
  }
  PgNode query = stmt.Node("query");
  if (!query.Is("SelectStmt")) {
    return NotSupported(position, "EXPLAIN of a statement other than a query");
  }
  ARROW_ASSIGN_OR_RAISE(s.plan, BindSelect(query));
  return s;
}

Result<Plan> QueryBinder::BindRenamed(const PgNode& query,
                                      const std::vector<PgNode>& names,
                                      const std::string& what, int position) {
  if (!query.Is("SelectStmt"))
    return NotSupported(position, what + " from this statement");
  ARROW_ASSIGN_OR_RAISE(Plan plan, BindSelect(query));
  if (names.empty()) return plan;
  int n = plan->schema->num_fields();
  if (static_cast<int>(names.size()) > n) {
    return ErrorAt(position, what, " names ", names.size(), " columns but the query has ",
                   n);
  }
  std::vector<Expr> exprs;
  for (int i = 0; i < n; ++i) {
    const auto& f = plan->schema->field(i);
    std::string name = i < static_cast<int>(names.size())
                           ? std::string(StringValue(names[i]))
                           : f->name();
    exprs.push_back(expr::Alias(expr::BoundColumn(i, f->name(), f->type()), name));
  }
  return WithPosition(plan::MakeProject(plan, exprs), position);
}

Result<PlannedStatement> QueryBinder::BindCreateView(const PgNode& stmt, int position) {
  PlannedStatement s;
  s.kind = StatementKind::kCreateView;
  ARROW_ASSIGN_OR_RAISE(s.name, TableName(stmt.Object("view")));
  s.or_replace = stmt.Bool("replace");
  if (stmt.String("withCheckOption") != "" &&
      stmt.String("withCheckOption") != "NO_CHECK_OPTION") {
    return NotSupported(position, "WITH CHECK OPTION");
  }
  ARROW_ASSIGN_OR_RAISE(s.plan, BindRenamed(stmt.Node("query"), stmt.List("aliases"),
                                            "CREATE VIEW", position));
  return s;
}

Result<PlannedStatement> QueryBinder::BindCreateTableAs(const PgNode& stmt,
                                                        int position) {
  PlannedStatement s;
  s.kind = StatementKind::kCreateTable;
  if (stmt.String("objtype") != "OBJECT_TABLE") {
    return NotSupported(position, "CREATE MATERIALIZED VIEW");
  }
  PgNode into = stmt.Object("into");
  ARROW_ASSIGN_OR_RAISE(s.name, TableName(into.Object("rel")));
  s.if_not_exists = stmt.Bool("if_not_exists");
  if (into.Bool("skipData"))
    return NotSupported(position, "CREATE TABLE ... WITH NO DATA");
  ARROW_ASSIGN_OR_RAISE(s.plan, BindRenamed(stmt.Node("query"), into.List("colNames"),
                                            "CREATE TABLE", position));
  return s;
}

Result<PlannedStatement> QueryBinder::BindInsert(const PgNode& stmt, int position) {
  PlannedStatement s;
  s.kind = StatementKind::kInsert;
  ARROW_ASSIGN_OR_RAISE(s.name, TableName(stmt.Object("relation")));
  if (stmt.Has("onConflictClause")) return NotSupported(position, "ON CONFLICT");
  if (!stmt.List("returningList").empty()) return NotSupported(position, "RETURNING");
  if (stmt.Has("withClause")) {
    return NotSupported(position, "WITH before INSERT (put it inside the query)");
  }
  for (const auto& c : stmt.List("cols")) s.columns.emplace_back(c.String("name"));
  PgNode query = stmt.Node("selectStmt");
  if (!query) return NotSupported(position, "INSERT ... DEFAULT VALUES");
  ARROW_ASSIGN_OR_RAISE(s.plan, BindRenamed(query, {}, "INSERT", position));
  return s;
}

Result<PlannedStatement> QueryBinder::BindCopy(const PgNode& stmt, int position) {
  PlannedStatement s;
  s.kind = StatementKind::kCopy;
  if (stmt.Bool("is_from")) {
    return NotSupported(position, "COPY ... FROM (read files with read_csv() etc.)");
  }
  if (stmt.Bool("is_program")) return NotSupported(position, "COPY ... TO PROGRAM");
  if (!stmt.Has("filename")) return NotSupported(position, "COPY ... TO STDOUT");
  if (PgNode query = stmt.Node("query")) {
    ARROW_ASSIGN_OR_RAISE(s.plan, BindRenamed(query, {}, "COPY", position));
  } else {
    PgNode rel = stmt.Object("relation");
    ARROW_ASSIGN_OR_RAISE(std::string name, TableName(rel));
    ARROW_ASSIGN_OR_RAISE(Plan plan,
                          WithPosition(catalog_->FindTable(name), rel.Location()));
    if (!plan) return ErrorAt(rel.Location(), "unknown table '", name, "'");
    s.plan = plan;
    if (!stmt.List("attlist").empty()) {
      return NotSupported(position, "a column list in COPY (use COPY (SELECT ...))");
    }
  }
  s.write.path = std::string(stmt.String("filename"));
  // The format follows the file name unless FORMAT says otherwise.
  auto from_name = connector::FileFormatFromPath(s.write.path);
  bool have_format = false;
  bool have_value_format = false;
  for (const auto& def : stmt.List("options")) {
    std::string name = AsciiLower(def.String("defname"));
    ARROW_ASSIGN_OR_RAISE(OptionValue v, ReadOption(def));
    int at = def.Location();
    if (name == "format") {
      std::string f = AsciiLower(v.text);
      if (f == "json" || f == "ndjson") f = "jsonl";
      auto parsed = connector::ParseFileFormat(f);
      if (!parsed.ok()) {
        return ErrorAt(at, "unknown COPY format '", v.text,
                       "' (parquet, csv, json, arrow or kafka)");
      }
      s.write.format = *parsed;
      have_format = true;
    } else if (name == "compression" || name == "codec") {
      s.write.compression = AsciiLower(v.text);
    } else if (name == "header") {
      ARROW_ASSIGN_OR_RAISE(s.write.csv_header, BoolOption(def, v));
    } else if (name == "delimiter" || name == "delim" || name == "sep") {
      if (v.text.size() != 1) {
        return ErrorAt(at, "the delimiter must be one character, got '", v.text, "'");
      }
      s.write.csv_delimiter = v.text[0];
    } else if (name == "partition_by") {
      if (v.is_list) {
        s.write.partition_by = v.list;
      } else {
        s.write.partition_by = {v.text};
      }
    } else if (name == "brokers") {
      s.write.kafka_brokers = v.text;
    } else if (name == "key") {
      s.write.kafka_key = v.text;
    } else if (name == "value_format") {
      const std::string f = AsciiLower(v.text);
      if (f != "json" && f != "csv") {
        return ErrorAt(at, "VALUE_FORMAT is json or csv, not '", v.text, "'");
      }
      s.write.kafka_csv_values = f == "csv";
      have_value_format = true;
    } else if (name == "row_group_size") {
      char* end = nullptr;
      long long rows = std::strtoll(v.text.c_str(), &end, 10);
      if (v.text.empty() || *end != '\0' || rows <= 0) {
        return ErrorAt(at, "row_group_size must be a positive integer, got '", v.text,
                       "'");
      }
      s.write.row_group_rows = rows;
    } else if (name == "roll_rows") {
      char* end = nullptr;
      long long rows = std::strtoll(v.text.c_str(), &end, 10);
      if (v.text.empty() || *end != '\0' || rows <= 0) {
        return ErrorAt(at, "roll_rows must be a positive integer, got '", v.text, "'");
      }
      s.write.roll_rows = rows;
    } else if (name == "roll_interval") {
      auto us = ParseDurationMicros(v.text, "roll_interval");
      if (!us.ok()) return ErrorAt(at, us.status().message());
      s.write.roll_interval_us = *us;
    } else {
      return ErrorAt(at, "unknown COPY option '", name,
                     "' (format, compression, header, delimiter, partition_by, "
                     "row_group_size, roll_rows, roll_interval; for kafka: brokers, "
                     "key, value_format)");
    }
  }
  if (!have_format) {
    if (!from_name.ok()) {
      return ErrorAt(position, "cannot tell the format of '", s.write.path,
                     "' from its name: add (FORMAT parquet|csv|json|arrow)");
    }
    s.write.format = *from_name;
  }
  for (const auto& col : s.write.partition_by) {
    if (s.plan->schema->GetFieldIndex(col) < 0) {
      return ErrorAt(position, "partition_by column '", col, "' is not in the result");
    }
  }
  const bool kafka = s.write.format == connector::FileFormat::kKafka;
  if (kafka && s.write.kafka_brokers.empty()) {
    return ErrorAt(position, "COPY ... (FORMAT kafka) needs BROKERS 'host:port'");
  }
  if (!kafka && (!s.write.kafka_brokers.empty() || !s.write.kafka_key.empty() ||
                 have_value_format)) {
    return ErrorAt(position, "BROKERS, KEY and VALUE_FORMAT are options of FORMAT kafka");
  }
  if (kafka && (s.write.roll_rows > 0 || s.write.roll_interval_us > 0)) {
    return ErrorAt(position, "ROLL_ROWS and ROLL_INTERVAL are for files");
  }
  if (kafka && !s.write.partition_by.empty()) {
    return ErrorAt(position,
                   "PARTITION_BY is for files; a Kafka topic partitions by KEY");
  }
  return s;
}

Result<PlannedStatement> QueryBinder::BindDrop(const PgNode& stmt, int position) {
  PlannedStatement s;
  s.kind = StatementKind::kDrop;
  std::string_view type = stmt.String("removeType");
  if (type != "OBJECT_VIEW" && type != "OBJECT_TABLE") {
    return NotSupported(position, "DROP of anything but a view or table");
  }
  auto objects = stmt.List("objects");
  if (objects.size() != 1)
    return NotSupported(position, "DROP of several objects at once");
  auto parts = objects[0].List("items");
  if (parts.size() != 1)
    return NotSupported(position, "qualified names (schema.table) here");
  s.name = std::string(StringValue(parts[0]));
  s.if_not_exists = stmt.Bool("missing_ok");
  return s;
}

}  // namespace sluice::sql::internal
