#include "sluice/api/frame.h"

#include <algorithm>
#include <set>

#include "sluice/api/session.h"
#include "sluice/connector/writer/file_writer.h"
#include "sluice/exec/exec_context.h"
#include "sluice/expr/binder.h"
#include "sluice/job/query.h"
#include "sluice/job/table_printer.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice {

using expr::ExprKind;

namespace {

Status CheckExprs(const std::vector<Expr>& exprs, const char* method) {
  for (const auto& e : exprs) {
    if (!e.status().ok()) return e.status();
    if (e.node() == nullptr) return Status::Invalid(method, "(): an expression is empty");
  }
  return Status::OK();
}

std::vector<expr::Expr> Nodes(const std::vector<Expr>& exprs) {
  std::vector<expr::Expr> out;
  out.reserve(exprs.size());
  for (const auto& e : exprs) out.push_back(e.node());
  return out;
}

expr::Expr StripAlias(const expr::Expr& e) {
  return e->kind == ExprKind::kAlias ? e->args[0] : e;
}

expr::Expr ColumnOf(const arrow::Schema& schema, int i) {
  return expr::BoundColumn(i, schema.field(i)->name(), schema.field(i)->type());
}

std::string ColumnList(const arrow::Schema& schema) {
  std::string out;
  for (const auto& f : schema.fields()) out += (out.empty() ? "" : ", ") + f->name();
  return out;
}

// Column index by name as the binder finds it, or an error naming the column.
Result<int> RequireColumn(const arrow::Schema& schema, const std::string& name,
                          const char* where) {
  ARROW_ASSIGN_OR_RAISE(int i, expr::FindColumn(schema, name));
  if (i < 0) {
    return Status::Invalid("unknown column '", name, "'", where,
                           " (columns: ", ColumnList(schema), ")");
  }
  return i;
}

// Grouped aggregation with expressions over aggregates, e.g. round(sum(x) / count(), 2):
// an Aggregate node computing the keys and every distinct aggregate call, then a
// projection computing the expressions over its output.
class AggregateSplit {
 public:
  AggregateSplit(std::vector<expr::Expr> keys, const std::vector<expr::Expr>& exprs)
      : keys_(std::move(keys)) {
    for (const auto& e : exprs) Collect(e);
  }

  Result<plan::Plan> MakePlan(plan::Plan input, const std::vector<expr::Expr>& exprs) {
    std::vector<expr::Expr> aggs;
    for (size_t j = 0; j < aggregates_.size(); ++j) {
      aggs.push_back(expr::Alias(aggregates_[j], "__agg" + std::to_string(j)));
    }
    ARROW_ASSIGN_OR_RAISE(auto agg, plan::MakeAggregate(std::move(input), keys_, aggs));
    schema_ = agg->schema;
    std::vector<expr::Expr> out;
    for (size_t i = 0; i < keys_.size(); ++i) {
      out.push_back(expr::Alias(ColumnOf(*schema_, static_cast<int>(i)),
                                schema_->field(i)->name()));
    }
    for (const auto& e : exprs) {
      ARROW_ASSIGN_OR_RAISE(auto rewritten, Rewrite(StripAlias(e), e));
      out.push_back(expr::Alias(rewritten, expr::OutputName(e)));
    }
    return plan::MakeProject(agg, out);
  }

 private:
  void Collect(const expr::Expr& e) {
    if (e->kind == ExprKind::kAggregate) {
      for (const auto& a : aggregates_) {
        if (expr::Equals(a, e)) return;
      }
      aggregates_.push_back(e);
      return;
    }
    for (const auto& a : e->args) Collect(a);
  }

  Result<expr::Expr> Rewrite(const expr::Expr& e, const expr::Expr& whole) const {
    if (e->kind == ExprKind::kAlias) return Rewrite(e->args[0], whole);
    int nkeys = static_cast<int>(keys_.size());
    for (int i = 0; i < nkeys; ++i) {
      if (expr::Equals(StripAlias(keys_[i]), e)) return ColumnOf(*schema_, i);
    }
    switch (e->kind) {
      case ExprKind::kAggregate:
        for (size_t j = 0; j < aggregates_.size(); ++j) {
          if (expr::Equals(aggregates_[j], e))
            return ColumnOf(*schema_, nkeys + static_cast<int>(j));
        }
        return Status::UnknownError("aggregate not collected: ", expr::ToString(e));
      case ExprKind::kColumn:
        // A key may be referred to by its output name (group_by({col("a").alias("k")})).
        for (int i = 0; i < nkeys; ++i) {
          if (schema_->field(i)->name() == e->name) return ColumnOf(*schema_, i);
        }
        return Status::Invalid(
            "column '", e->name,
            "' must be a group_by key or used inside an aggregate function in ",
            expr::ToString(whole));
      case ExprKind::kStar:
        return Status::Invalid("* is not allowed in agg()");
      case ExprKind::kCall: {
        auto copy = std::make_shared<expr::ExprNode>(*e);
        for (auto& a : copy->args) {
          ARROW_ASSIGN_OR_RAISE(a, Rewrite(a, whole));
        }
        return expr::Expr(copy);
      }
      default:
        return e;
    }
  }

  std::vector<expr::Expr> keys_;
  std::vector<expr::Expr> aggregates_;
  std::shared_ptr<arrow::Schema> schema_;
};

Result<plan::Plan> MakeGroupedAggregate(plan::Plan input,
                                        const std::vector<expr::Expr>& keys,
                                        const std::vector<expr::Expr>& exprs) {
  bool plain = std::all_of(exprs.begin(), exprs.end(), [](const expr::Expr& e) {
    return StripAlias(e)->kind == ExprKind::kAggregate;
  });
  if (plain) return plan::MakeAggregate(std::move(input), keys, exprs);
  AggregateSplit split(keys, exprs);
  return split.MakePlan(std::move(input), exprs);
}

bool IsFiltering(JoinType how) {
  return how == JoinType::kSemi || how == JoinType::kAnti;
}

// Renames right columns whose names clash with left ones ("x" -> "x_right"), keeping
// their positions. Returns the right plan (unchanged if nothing clashes).
Result<plan::Plan> RenameClashes(const arrow::Schema& left, plan::Plan right) {
  const auto& schema = *right->schema;
  std::set<std::string> left_names;
  for (const auto& f : left.fields()) left_names.insert(f->name());
  // New names must not clash with any name on either side.
  std::set<std::string> taken = left_names;
  for (const auto& f : schema.fields()) taken.insert(f->name());
  bool clash = false;
  std::vector<expr::Expr> exprs;
  for (int j = 0; j < schema.num_fields(); ++j) {
    std::string name = schema.field(j)->name();
    if (left_names.count(name)) {
      clash = true;
      std::string candidate = name + "_right";
      for (int k = 2; taken.count(candidate); ++k)
        candidate = name + "_right" + std::to_string(k);
      taken.insert(candidate);
      name = candidate;
    }
    exprs.push_back(expr::Alias(ColumnOf(schema, j), name));
  }
  if (!clash) return right;
  return plan::MakeProject(std::move(right), exprs);
}

Result<plan::Plan> MakeFrameJoin(plan::Plan left, plan::Plan right, JoinType how,
                                 const std::vector<expr::Expr>& left_keys,
                                 const std::vector<expr::Expr>& right_keys,
                                 const std::vector<std::string>& using_names,
                                 const expr::Expr& condition) {
  if (left_keys.empty()) return Status::Invalid("join(): no join keys");
  if (left_keys.size() != right_keys.size()) {
    return Status::Invalid("join(): ", left_keys.size(), " left keys but ",
                           right_keys.size(), " right keys");
  }
  // Right keys are bound before renaming: they name the right frame's own columns.
  std::vector<expr::Expr> bound_right;
  for (const auto& k : right_keys) {
    auto b = expr::Bind(k, *right->schema);
    if (!b.ok())
      return b.status().WithMessage("join(): right key: ", b.status().message());
    bound_right.push_back(*b);
  }
  for (const auto& k : left_keys) {
    auto b = expr::Bind(k, *left->schema);
    if (!b.ok())
      return b.status().WithMessage("join(): left key: ", b.status().message());
  }
  const auto right_schema = right->schema;
  const auto left_schema = left->schema;
  ARROW_ASSIGN_OR_RAISE(auto renamed, RenameClashes(*left_schema, right));
  ARROW_ASSIGN_OR_RAISE(
      auto joined, plan::MakeJoin(left, renamed, how, left_keys, bound_right, condition));
  if (using_names.empty() || IsFiltering(how)) return joined;

  // USING-style output: each key once, in the left key's place.
  int nl = left_schema->num_fields();
  std::vector<int> left_index;
  std::vector<int> right_index;
  for (const auto& name : using_names) {
    ARROW_ASSIGN_OR_RAISE(
        int li, RequireColumn(*left_schema, name, " in the left frame of join()"));
    ARROW_ASSIGN_OR_RAISE(
        int ri, RequireColumn(*right_schema, name, " in the right frame of join()"));
    left_index.push_back(li);
    right_index.push_back(ri);
  }
  const auto& js = *joined->schema;
  std::vector<expr::Expr> exprs;
  for (int i = 0; i < nl; ++i) {
    expr::Expr e = ColumnOf(js, i);
    auto k = std::find(left_index.begin(), left_index.end(), i);
    if (k != left_index.end()) {
      int r = nl + right_index[k - left_index.begin()];
      if (how == JoinType::kRight) e = ColumnOf(js, r);
      if (how == JoinType::kFull)
        e = expr::Call("coalesce", {ColumnOf(js, i), ColumnOf(js, r)});
    }
    exprs.push_back(expr::Alias(e, left_schema->field(i)->name()));
  }
  for (int j = 0; j < right_schema->num_fields(); ++j) {
    if (std::find(right_index.begin(), right_index.end(), j) != right_index.end())
      continue;
    exprs.push_back(expr::Alias(ColumnOf(js, nl + j), js.field(nl + j)->name()));
  }
  return plan::MakeProject(joined, exprs);
}

}  // namespace

// ---- Frame ------------------------------------------------------------------------

Frame::Frame() : status_(Status::Invalid("empty Frame: frames are made by a Session")) {}

Frame::Frame(std::shared_ptr<Session> session, plan::Plan plan)
    : session_(std::move(session)), plan_(std::move(plan)) {}

Frame Frame::Error(Status error) {
  Frame f;
  f.status_ = std::move(error);
  return f;
}

Frame Frame::Wrap(Result<plan::Plan> plan) const {
  if (!plan.ok()) return Error(plan.status());
  return Frame(session_, std::move(*plan));
}

Result<std::shared_ptr<arrow::Schema>> Frame::schema() const {
  ARROW_RETURN_NOT_OK(status_);
  return plan_->schema;
}

Frame Frame::filter(const Expr& predicate) const {
  if (!ok()) return *this;
  Status st = CheckExprs({predicate}, "filter");
  if (!st.ok()) return Error(st);
  return Wrap(plan::MakeFilter(plan_, predicate.node()));
}

Frame Frame::select(const std::vector<Expr>& exprs) const {
  if (!ok()) return *this;
  Status st = CheckExprs(exprs, "select");
  if (!st.ok()) return Error(st);
  if (exprs.empty()) return Error(Status::Invalid("select(): no columns"));
  for (const auto& e : exprs) {
    if (expr::ContainsAggregate(e.node())) return agg(exprs);
  }
  return Wrap(plan::MakeProject(plan_, Nodes(exprs)));
}

Frame Frame::with_columns(const std::vector<Expr>& exprs) const {
  if (!ok()) return *this;
  Status st = CheckExprs(exprs, "with_columns");
  if (!st.ok()) return Error(st);
  for (const auto& e : exprs) {
    if (expr::ContainsAggregate(e.node())) {
      return Error(
          Status::Invalid("with_columns(): aggregate functions are not allowed (",
                          e.ToString(), "); use group_by().agg()"));
    }
  }
  return Wrap(plan::MakeWithColumns(plan_, Nodes(exprs)));
}

Frame Frame::drop(const std::vector<std::string>& columns) const {
  if (!ok()) return *this;
  const auto& schema = *plan_->schema;
  std::set<int> dropped;
  for (const auto& name : columns) {
    auto i = RequireColumn(schema, name, " in drop()");
    if (!i.ok()) return Error(i.status());
    dropped.insert(*i);
  }
  std::vector<expr::Expr> exprs;
  for (int i = 0; i < schema.num_fields(); ++i) {
    if (!dropped.count(i))
      exprs.push_back(expr::Alias(ColumnOf(schema, i), schema.field(i)->name()));
  }
  return Wrap(plan::MakeProject(plan_, exprs));
}

Frame Frame::rename(const std::vector<std::pair<std::string, std::string>>& names) const {
  if (!ok()) return *this;
  const auto& schema = *plan_->schema;
  std::vector<std::string> out_names;
  for (const auto& f : schema.fields()) out_names.push_back(f->name());
  for (const auto& [from, to] : names) {
    auto i = RequireColumn(schema, from, " in rename()");
    if (!i.ok()) return Error(i.status());
    if (to.empty())
      return Error(Status::Invalid("rename(): empty new name for '", from, "'"));
    out_names[*i] = to;
  }
  std::vector<expr::Expr> exprs;
  for (int i = 0; i < schema.num_fields(); ++i) {
    exprs.push_back(expr::Alias(ColumnOf(schema, i), out_names[i]));
  }
  return Wrap(plan::MakeProject(plan_, exprs));
}

GroupedFrame Frame::group_by(const std::vector<Expr>& keys) const {
  return GroupedFrame(*this, keys);
}

Frame Frame::agg(const std::vector<Expr>& aggregates) const {
  return group_by({}).agg(aggregates);
}

Frame GroupedFrame::agg(const std::vector<Expr>& aggregates) const {
  if (!input_.ok()) return input_;
  Status st = CheckExprs(keys_, "group_by");
  if (st.ok()) st = CheckExprs(aggregates, "agg");
  if (!st.ok()) return Frame::Error(st);
  for (const auto& k : keys_) {
    if (expr::ContainsAggregate(k.node())) {
      return Frame::Error(
          Status::Invalid("group_by(): aggregate functions are not allowed in keys (",
                          k.ToString(), ")"));
    }
  }
  if (keys_.empty() && aggregates.empty())
    return Frame::Error(Status::Invalid("agg(): nothing to compute"));
  return input_.Wrap(MakeGroupedAggregate(input_.plan_, Nodes(keys_), Nodes(aggregates)));
}

Frame Frame::join(const Frame& right, const std::vector<std::string>& on, JoinType how,
                  const Expr& condition) const {
  if (!ok()) return *this;
  if (!right.ok()) return right;
  if (on.empty()) return Error(Status::Invalid("join(): no join columns in `on`"));
  std::vector<Expr> keys;
  for (const auto& name : on) {
    auto li = RequireColumn(*plan_->schema, name, " in the left frame of join()");
    if (!li.ok()) return Error(li.status());
    auto ri = RequireColumn(*right.plan_->schema, name, " in the right frame of join()");
    if (!ri.ok()) return Error(ri.status());
    keys.push_back(col(name));
  }
  if (right.session_ != session_)
    return Error(Status::Invalid("join(): the frames belong to different sessions"));
  if (!condition.status().ok()) return Error(condition.status());
  return Wrap(MakeFrameJoin(plan_, right.plan_, how, Nodes(keys), Nodes(keys), on,
                            condition.node()));
}

Frame Frame::join(const Frame& right, const std::vector<Expr>& left_on,
                  const std::vector<Expr>& right_on, JoinType how,
                  const Expr& condition) const {
  if (!ok()) return *this;
  if (!right.ok()) return right;
  Status st = CheckExprs(left_on, "join");
  if (st.ok()) st = CheckExprs(right_on, "join");
  if (st.ok()) st = condition.status();
  if (!st.ok()) return Error(st);
  if (right.session_ != session_)
    return Error(Status::Invalid("join(): the frames belong to different sessions"));
  return Wrap(MakeFrameJoin(plan_, right.plan_, how, Nodes(left_on), Nodes(right_on), {},
                            condition.node()));
}

Frame Frame::sort(const std::vector<SortSpec>& keys) const {
  if (!ok()) return *this;
  if (keys.empty()) return Error(Status::Invalid("sort(): no sort keys"));
  std::vector<plan::SortKey> plan_keys;
  for (const auto& k : keys) {
    Status st = CheckExprs({k.expr}, "sort");
    if (!st.ok()) return Error(st);
    plan_keys.push_back(
        plan::SortKey{StripAlias(k.expr.node()), k.ascending, k.effective_nulls_first()});
  }
  return Wrap(plan::MakeSort(plan_, std::move(plan_keys)));
}

Frame Frame::window(const std::vector<Expr>& functions, const WindowOver& over) const {
  if (!ok()) return *this;
  if (functions.empty()) return Error(Status::Invalid("window(): no window function"));
  Status st = CheckExprs(functions, "window");
  if (st.ok()) st = CheckExprs(over.partition_by, "window");
  if (!st.ok()) return Error(st);
  std::vector<plan::SortKey> order;
  for (const auto& k : over.order_by) {
    Status s = CheckExprs({k.expr}, "window");
    if (!s.ok()) return Error(s);
    order.push_back(
        plan::SortKey{StripAlias(k.expr.node()), k.ascending, k.effective_nulls_first()});
  }
  std::vector<plan::WindowFunction> calls;
  for (const auto& f : functions) {
    const expr::Expr& node = f.node();
    const expr::Expr fn = StripAlias(node);
    if (fn->kind != ExprKind::kCall && fn->kind != ExprKind::kAggregate) {
      return Error(Status::Invalid("window(): ", f.ToString(),
                                   " is not a window function or an aggregate"));
    }
    plan::WindowFunction w;
    w.name = fn->name;
    w.args = fn->args;
    if (over.frame) w.frame = *over.frame;
    if (node->kind == ExprKind::kAlias) w.output_name = node->name;
    calls.push_back(std::move(w));
  }
  return Wrap(plan::MakeWindow(plan_, Nodes(over.partition_by), std::move(order),
                               std::move(calls)));
}

Frame Frame::limit(int64_t n, int64_t offset) const {
  if (!ok()) return *this;
  if (n < 0)
    return Error(Status::Invalid("limit(): the row count must not be negative, got ", n));
  return Wrap(plan::MakeLimit(plan_, n, offset));
}

Frame Frame::distinct() const {
  if (!ok()) return *this;
  return Wrap(plan::MakeDistinct(plan_));
}

Frame Frame::union_(const Frame& other, bool all) const {
  if (!ok()) return *this;
  if (!other.ok()) return other;
  if (other.session_ != session_)
    return Error(Status::Invalid("union: the frames belong to different sessions"));
  return Wrap(plan::MakeUnion({plan_, other.plan_}, all));
}

// ---- Actions ----------------------------------------------------------------------

Result<std::shared_ptr<arrow::Table>> Frame::collect() const {
  ARROW_RETURN_NOT_OK(status_);
  std::shared_ptr<arrow::Table> table;
  ARROW_RETURN_NOT_OK(session_->Run(plan_, [&](exec::ExecContext* ctx) -> Status {
    ARROW_ASSIGN_OR_RAISE(table, job::CollectQuery(plan::CopyTree(plan_), ctx));
    return Status::OK();
  }));
  return table;
}

Result<int64_t> Frame::count() const {
  ARROW_ASSIGN_OR_RAISE(auto table, agg({count_star().alias("count")}).collect());
  if (table->num_rows() != 1) return Status::UnknownError("count(): expected one row");
  ARROW_ASSIGN_OR_RAISE(auto scalar, table->column(0)->GetScalar(0));
  return static_cast<const arrow::Int64Scalar&>(*scalar).value;
}

Result<int64_t> Frame::Write(const std::string& path, int format,
                             const WriteOptions& options) const {
  ARROW_RETURN_NOT_OK(status_);
  if (path.empty()) return Status::Invalid("write: the path is empty");
  connector::WriteOptions w;
  w.format = static_cast<connector::FileFormat>(format);
  w.path = path;
  w.partition_by = options.partition_by;
  w.compression = options.compression;
  w.row_group_rows = options.row_group_rows;
  w.csv_header = options.header;
  w.csv_delimiter = options.delimiter;
  int64_t rows = 0;
  ARROW_RETURN_NOT_OK(session_->Run(plan_, [&](exec::ExecContext* ctx) -> Status {
    ARROW_ASSIGN_OR_RAISE(rows, job::WriteQuery(plan::CopyTree(plan_), ctx, w));
    return Status::OK();
  }));
  return rows;
}

Result<int64_t> Frame::write_parquet(const std::string& path,
                                     const WriteOptions& options) const {
  return Write(path, static_cast<int>(connector::FileFormat::kParquet), options);
}
Result<int64_t> Frame::write_csv(const std::string& path,
                                 const WriteOptions& options) const {
  return Write(path, static_cast<int>(connector::FileFormat::kCsv), options);
}
Result<int64_t> Frame::write_json(const std::string& path,
                                  const WriteOptions& options) const {
  return Write(path, static_cast<int>(connector::FileFormat::kJsonLines), options);
}
Result<int64_t> Frame::write_arrow(const std::string& path,
                                   const WriteOptions& options) const {
  return Write(path, static_cast<int>(connector::FileFormat::kArrowIpc), options);
}

Result<std::string> Frame::explain(bool analyze) const {
  ARROW_RETURN_NOT_OK(status_);
  if (!analyze) return job::ExplainQuery(plan::CopyTree(plan_));
  std::string text;
  ARROW_RETURN_NOT_OK(session_->Run(plan_, [&](exec::ExecContext* ctx) -> Status {
    return job::CollectQuery(plan::CopyTree(plan_), ctx, &text).status();
  }));
  return text;
}

Result<std::string> Frame::to_string(int64_t max_rows) const {
  ARROW_ASSIGN_OR_RAISE(auto table, collect());
  job::PrintOptions options;
  options.max_rows = max_rows;
  return job::FormatTable(*table, options);
}

}  // namespace sluice
