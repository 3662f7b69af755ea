#include "sluice/job/sql_session.h"

#include <arrow/array/util.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "sluice/base/text.h"
#include "sluice/exec/dictionary_columns.h"
#include "sluice/exec/scannable.h"
#include "sluice/job/query.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::job {

using sql::StatementKind;

namespace {

// A kept table's bytes. A dictionary column's chunks share one dictionary (a column
// encoded when the table was loaded, exec/dictionary_columns.h): it counts once, not
// once per chunk (db-benchmark's 1e8 table, whose id3 has 1 M values in 1,526 chunks,
// was taken for 27 GiB).
int64_t TableMemory(const arrow::Table& t) {
  int64_t bytes = 0;
  std::set<const arrow::ArrayData*> dictionaries;
  for (const auto& column : t.columns()) {
    for (const auto& chunk : column->chunks()) {
      const auto& data = chunk->data();
      if (data->dictionary == nullptr) {
        bytes += ArrayMemory(*data);
        continue;
      }
      arrow::ArrayData indices = *data;  // shares the buffers
      indices.dictionary = nullptr;
      bytes += ArrayMemory(indices);
      if (dictionaries.insert(data->dictionary.get()).second) {
        bytes += ArrayMemory(*data->dictionary);
      }
    }
  }
  return bytes;
}

std::string Rows(int64_t n) { return std::to_string(n) + (n == 1 ? " row" : " rows"); }

// A table as kept: its chunks as the query made them (copying a large answer into one
// chunk would cost as much as a join's output), unless they are so many and small
// (a selective filter's batches) that later scans would pay per chunk.
Result<std::shared_ptr<arrow::Table>> Compact(std::shared_ptr<arrow::Table> table) {
  constexpr int64_t kSmallChunkRows = 16384;
  if (table->num_columns() == 0) return table;
  const int chunks = table->column(0)->num_chunks();
  if (chunks <= 1 || table->num_rows() / chunks >= kSmallChunkRows) return table;
  // Chunks may each have their own dictionary: one chunk holds the values.
  ARROW_ASSIGN_OR_RAISE(table, exec::DecodeTableDictionaries(table));
  return table->CombineChunks();
}

}  // namespace

Result<StatementResult> SqlSession::Execute(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(auto planned, sql::PlanStatement(text, catalog_));
  return Execute(planned);
}

Status SqlSession::Keep(const std::string& name, std::shared_ptr<arrow::Table> table) {
  OwnedTable owned;
  owned.reservation = MemoryReservation(ctx_->budget(), "table " + name);
  ARROW_RETURN_NOT_OK(owned.reservation.Grow(TableMemory(*table)));
  owned.table = table;
  catalog_->Register(name, plan::MakeScan(std::make_shared<exec::InMemoryTable>(
                               table, "table " + name)));
  tables_[AsciiLower(name)] = std::move(owned);
  return Status::OK();
}

Result<StatementResult> SqlSession::Execute(const sql::PlannedStatement& s) {
  StatementResult r;
  r.kind = s.kind;
  const std::string key = AsciiLower(s.name);
  switch (s.kind) {
    case StatementKind::kQuery: {
      ARROW_ASSIGN_OR_RAISE(r.rows, CollectQuery(s.plan, ctx_));
      r.affected = r.rows->num_rows();
      return r;
    }
    case StatementKind::kCreateView:
      if (catalog_->Has(s.name) && !(s.or_replace && views_.count(key))) {
        return Status::Invalid("'", s.name, "' already exists",
                               s.or_replace ? " and is not a view" : "");
      }
      catalog_->Register(s.name, s.plan);
      views_[key] = true;
      r.message = "CREATE VIEW " + s.name;
      return r;
    case StatementKind::kCreateTable:
      return CreateTable(s);
    case StatementKind::kInsert:
      return Insert(s);
    case StatementKind::kCopy: {
      std::vector<std::string> files;
      ARROW_ASSIGN_OR_RAISE(r.affected, WriteQuery(s.plan, ctx_, s.write, &files));
      r.message = "COPY " + Rows(r.affected) + " to " + s.write.path;
      return r;
    }
    case StatementKind::kDrop:
      if (!catalog_->Unregister(s.name)) {
        if (s.if_not_exists) {
          r.message = "DROP " + s.name + ": did not exist";
          return r;
        }
        return Status::Invalid("cannot drop '", s.name, "': no such table or view");
      }
      tables_.erase(key);
      views_.erase(key);
      r.message = "DROP " + s.name;
      return r;
    case StatementKind::kExplain: {
      ARROW_ASSIGN_OR_RAISE(r.text, ExplainQuery(s.plan));
      if (!s.analyze) return r;
      std::string annotated;
      auto start = std::chrono::steady_clock::now();
      ARROW_ASSIGN_OR_RAISE(auto rows, CollectQuery(s.plan, ctx_, &annotated));
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      r.affected = rows->num_rows();
      r.text += fmt::format("\nAnalyzed plan ({} in {:.3f} s):\n{}",
                            Rows(rows->num_rows()), secs, annotated);
      if (r.text.back() != '\n') r.text += '\n';
      return r;
    }
  }
  return Status::Invalid("internal: unknown statement kind");
}

namespace {

// A table loaded from its sources as they are (scans, filters and projections, no join,
// aggregate or window): its repeated strings are worth encoding once, since the table
// is kept to be read many times. A derived result (a group-by's answer) is left as it
// comes: encoding its columns would be work on every such statement.
bool IsLoad(const plan::Plan& node) {
  using plan::NodeKind;
  if (node->kind != NodeKind::kScan && node->kind != NodeKind::kFilter &&
      node->kind != NodeKind::kProject) {
    return false;
  }
  for (const auto& in : node->inputs) {
    if (!IsLoad(in)) return false;
  }
  return true;
}

}  // namespace

Result<StatementResult> SqlSession::CreateTable(const sql::PlannedStatement& s) {
  StatementResult r;
  r.kind = s.kind;
  if (catalog_->Has(s.name)) {
    if (s.if_not_exists) {
      r.message = "CREATE TABLE " + s.name + ": already exists";
      return r;
    }
    return Status::Invalid("'", s.name, "' already exists");
  }
  ARROW_ASSIGN_OR_RAISE(
      auto table, CollectQuery(s.plan, ctx_, nullptr,
                               IsLoad(s.plan) ? exec::TableStrings::kEncodeRepeated
                                              : exec::TableStrings::kKeepDictionaries));
  ARROW_ASSIGN_OR_RAISE(table, Compact(std::move(table)));
  ARROW_RETURN_NOT_OK(Keep(s.name, table));
  r.affected = table->num_rows();
  r.message = "CREATE TABLE " + s.name + ": " + Rows(r.affected);
  return r;
}

Result<StatementResult> SqlSession::Insert(const sql::PlannedStatement& s) {
  StatementResult r;
  r.kind = s.kind;
  auto it = tables_.find(AsciiLower(s.name));
  if (it == tables_.end()) {
    return Status::Invalid("cannot INSERT INTO '", s.name, "': ",
                           catalog_->Has(s.name)
                               ? "only tables made by CREATE TABLE ... AS take inserts"
                               : "no such table");
  }
  // The table's logical schema: a dictionary-encoded column takes its value type.
  const auto target = exec::LogicalSchema(it->second.table->schema());
  const int n = s.plan->schema->num_fields();
  // source[i]: the query column that fills target column i (-1: NULL).
  std::vector<int> source(target->num_fields(), -1);
  if (s.columns.empty()) {
    if (n != target->num_fields()) {
      return Status::Invalid("INSERT INTO ", s.name, ": the query has ", n,
                             " columns but the table has ", target->num_fields());
    }
    for (int i = 0; i < n; ++i) source[i] = i;
  } else {
    if (static_cast<int>(s.columns.size()) != n) {
      return Status::Invalid("INSERT INTO ", s.name, ": ", s.columns.size(),
                             " columns are listed but the query has ", n);
    }
    for (int k = 0; k < n; ++k) {
      int i = -1;
      for (int c = 0; c < target->num_fields(); ++c) {
        if (AsciiLower(target->field(c)->name()) == AsciiLower(s.columns[k])) i = c;
      }
      if (i < 0) {
        return Status::Invalid("INSERT INTO ", s.name, ": no column '", s.columns[k],
                               "'");
      }
      if (source[i] >= 0) {
        return Status::Invalid("INSERT INTO ", s.name, ": column '", s.columns[k],
                               "' is listed twice");
      }
      source[i] = k;
    }
  }
  std::vector<expr::Expr> exprs;
  for (int i = 0; i < target->num_fields(); ++i) {
    const auto& f = target->field(i);
    expr::Expr value =
        source[i] < 0
            ? expr::Literal(arrow::MakeNullScalar(f->type()))
            : expr::BoundColumn(source[i], s.plan->schema->field(source[i])->name(),
                                s.plan->schema->field(source[i])->type());
    exprs.push_back(expr::Alias(expr::Cast(value, f->type()), f->name()));
  }
  ARROW_ASSIGN_OR_RAISE(auto plan, plan::MakeProject(s.plan, exprs));
  ARROW_ASSIGN_OR_RAISE(auto rows, CollectQuery(plan, ctx_));
  rows = rows->ReplaceSchemaMetadata(nullptr);
  // Column nullability may differ: rebuild on the table's schema.
  auto added = arrow::Table::Make(target, rows->columns(), rows->num_rows());
  ARROW_ASSIGN_OR_RAISE(auto old_rows, exec::DecodeTableDictionaries(it->second.table));
  ARROW_ASSIGN_OR_RAISE(auto combined, arrow::ConcatenateTables({old_rows, added}));
  ARROW_ASSIGN_OR_RAISE(combined, Compact(std::move(combined)));
  // Both copies are alive until the new one replaces the old: both are accounted.
  std::string name = s.name;
  ARROW_RETURN_NOT_OK(Keep(name, combined));
  r.affected = rows->num_rows();
  r.message = "INSERT INTO " + name + ": " + Rows(r.affected);
  return r;
}

}  // namespace sluice::job
