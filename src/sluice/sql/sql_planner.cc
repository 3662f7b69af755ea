#include "sluice/sql/sql_planner.h"

#include <pg_query.h>

#include <cctype>

#include "sluice/sql/parse_tree_internal.h"
#include "sluice/sql/query_binder_internal.h"
#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql {

Result<plan::Plan> Catalog::SingleRow() {
  return Status::Invalid("SELECT without FROM is not supported by this catalog");
}

namespace {

// Parses `sql`, which must hold exactly one statement, and binds it with `bind`.
template <typename T, typename Bind>
Result<T> PlanOne(const std::string& sql, Catalog* catalog, Bind bind) {
  if (catalog == nullptr) return Status::Invalid("planning SQL needs a catalog");
  auto tree = internal::ParseTree::Parse(sql);
  if (!tree.ok()) return internal::FormatSqlError(tree.status(), sql, 0);
  const auto& statements = (*tree)->statements();
  if (statements.empty()) {
    return internal::FormatSqlError(
        Status::Invalid("empty query: expected a SELECT statement"), sql, 0);
  }
  if (statements.size() > 1) {
    // A statement's location is right after the previous ';': skip to its first word.
    size_t second = static_cast<size_t>(statements[1].Int("stmt_location", 0));
    while (second < sql.size() && std::isspace(static_cast<unsigned char>(sql[second]))) {
      ++second;
    }
    return internal::FormatSqlError(
        internal::ErrorAt(static_cast<int>(second), "expected one statement, got ",
                          statements.size()),
        sql, 0);
  }
  internal::QueryBinder binder(**tree, catalog);
  Result<T> r = bind(binder, statements[0]);
  if (!r.ok()) {
    return internal::FormatSqlError(
        r.status(), sql, static_cast<int>(statements[0].Int("stmt_location", 0)));
  }
  return r;
}

}  // namespace

Result<plan::Plan> PlanQuery(const std::string& sql, Catalog* catalog) {
  return PlanOne<plan::Plan>(sql, catalog,
                             [](internal::QueryBinder& b, const internal::PgNode& stmt) {
                               return b.BindStatement(stmt);
                             });
}

Result<PlannedStatement> PlanStatement(const std::string& sql, Catalog* catalog) {
  return PlanOne<PlannedStatement>(
      sql, catalog, [](internal::QueryBinder& b, const internal::PgNode& stmt) {
        return b.BindAnyStatement(stmt);
      });
}

Result<std::vector<Statement>> SplitStatements(const std::string& script) {
  // The parser (not the scanner) splits: the scanner silently drops text it cannot
  // tokenize into a statement ("SELEC 1"), the parser reports it as a syntax error.
  PgQuerySplitResult result = pg_query_split_with_parser(script.c_str());
  if (result.error != nullptr) {
    std::string message = result.error->message ? result.error->message : "cannot split";
    int position = result.error->cursorpos > 0 ? result.error->cursorpos - 1 : 0;
    pg_query_free_split_result(result);
    return internal::FormatSqlError(internal::ErrorAt(position, message), script, 0);
  }
  std::vector<Statement> out;
  for (int i = 0; i < result.n_stmts; ++i) {
    size_t begin = static_cast<size_t>(result.stmts[i]->stmt_location);
    size_t len = static_cast<size_t>(result.stmts[i]->stmt_len);
    size_t end = len == 0 ? script.size() : std::min(script.size(), begin + len);
    while (begin < end && std::isspace(static_cast<unsigned char>(script[begin])))
      ++begin;
    while (end > begin && (std::isspace(static_cast<unsigned char>(script[end - 1])) ||
                           script[end - 1] == ';')) {
      --end;
    }
    if (end > begin) {
      out.push_back(
          Statement{script.substr(begin, end - begin), static_cast<int>(begin)});
    }
  }
  pg_query_free_split_result(result);
  return out;
}

size_t CompleteStatementsLength(const std::string& text) {
  // The scanner's split ends each statement's span just before its ';', and the last
  // span at the end of the text when no ';' closes it.
  PgQuerySplitResult result = pg_query_split_with_scanner(text.c_str());
  size_t complete = 0;
  if (result.error == nullptr) {
    for (int i = 0; i < result.n_stmts; ++i) {
      size_t end = static_cast<size_t>(result.stmts[i]->stmt_location) +
                   static_cast<size_t>(result.stmts[i]->stmt_len);
      if (end < text.size() && text[end] == ';') complete = end + 1;
    }
  }
  pg_query_free_split_result(result);
  return complete;
}

}  // namespace sluice::sql
