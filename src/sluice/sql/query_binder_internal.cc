#include "sluice/sql/query_binder_internal.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "sluice/base/text.h"
#include "sluice/exec/scannable.h"
#include "sluice/expr/binder.h"
#include "sluice/expr/types.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/plan/plan_rewrite.h"
#include "sluice/sql/aggregate_split_internal.h"
#include "sluice/sql/literals_internal.h"
#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

using expr::Expr;
using expr::ExprKind;
using plan::JoinType;
using plan::Plan;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A column of the current plan, already resolved (expr::Bind keeps the index).
Expr ColumnAt(int index, const std::string& name, int position) {
  auto c = std::make_shared<expr::ExprNode>(*expr::Column(name));
  c->index = index;
  c->position = position;
  return c;
}

Expr Named(const Expr& e, const std::string& name) {
  return expr::WithPosition(expr::Alias(e, name), e->position);
}

Result<Plan> Project(Plan input, const std::vector<Expr>& exprs, int fallback) {
  // A projection that keeps every column in order under its name is left out.
  bool identity = static_cast<int>(exprs.size()) == input->schema->num_fields();
  for (size_t i = 0; identity && i < exprs.size(); ++i) {
    const Expr& inner = exprs[i]->kind == ExprKind::kAlias ? exprs[i]->args[0] : exprs[i];
    identity =
        inner->kind == ExprKind::kColumn && inner->index == static_cast<int>(i) &&
        expr::OutputName(exprs[i]) == input->schema->field(static_cast<int>(i))->name();
  }
  if (identity) return input;
  auto r = plan::MakeProject(input, exprs);
  if (!r.ok())
    return RelocateBindError(r.status(), exprs, *input->schema, false, fallback);
  return r;
}

Result<Plan> Filter(Plan input, const Expr& predicate) {
  auto r = plan::MakeFilter(input, predicate);
  if (!r.ok()) {
    return RelocateBindError(r.status(), {predicate}, *input->schema, false,
                             predicate->position);
  }
  return r;
}

bool AllBind(const std::vector<Expr>& exprs, const arrow::Schema& schema) {
  return std::all_of(exprs.begin(), exprs.end(),
                     [&](const Expr& e) { return expr::Bind(e, schema).ok(); });
}

std::string StatementName(std::string_view tag) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"InsertStmt", "INSERT"},
      {"UpdateStmt", "UPDATE"},
      {"DeleteStmt", "DELETE"},
      {"MergeStmt", "MERGE"},
      {"CreateStmt", "CREATE TABLE"},
      {"CreateTableAsStmt", "CREATE TABLE AS"},
      {"ViewStmt", "CREATE VIEW"},
      {"DropStmt", "DROP"},
      {"ExplainStmt", "EXPLAIN"},
      {"CopyStmt", "COPY"},
      {"TransactionStmt", "transactions"},
      {"VariableSetStmt", "SET"}};
  for (const auto& [t, name] : kNames) {
    if (tag == t) return name;
  }
  return "statement " + std::string(tag);
}

// The position of a SELECT block for errors that have no better place.
int SelectPosition(const PgNode& select) {
  auto targets = select.List("targetList");
  if (!targets.empty()) return targets[0].Location();
  return -1;
}

Status CheckSupported(const PgNode& s, int position) {
  if (s.Has("intoClause")) return NotSupported(position, "SELECT INTO");
  if (s.Has("lockingClause")) return NotSupported(position, "FOR UPDATE / FOR SHARE");
  if (s.Has("windowClause")) return NotSupported(position, "WINDOW clauses");
  if (s.Bool("groupDistinct")) return NotSupported(position, "GROUP BY DISTINCT");
  for (const auto& d : s.List("distinctClause")) {
    if (d) return NotSupported(d.Location(), "DISTINCT ON");
  }
  return Status::OK();
}

struct SortSpec {
  PgNode node;
  bool ascending = true;
  bool nulls_first = false;
  int position = -1;
};

Result<SortSpec> ReadSortBy(const PgNode& sort_by) {
  SortSpec spec;
  spec.node = sort_by.Node("node");
  spec.position = spec.node.Location();
  if (sort_by.Has("useOp")) return NotSupported(spec.position, "ORDER BY ... USING");
  spec.ascending = sort_by.String("sortby_dir") != "SORTBY_DESC";
  std::string_view nulls = sort_by.String("sortby_nulls");
  // PostgreSQL's default: NULLs sort as larger than any value.
  spec.nulls_first = nulls == "SORTBY_NULLS_FIRST"  ? true
                     : nulls == "SORTBY_NULLS_LAST" ? false
                                                    : !spec.ascending;
  return spec;
}

// The bare name of a one-part column reference, or "".
std::string BareName(const PgNode& n) {
  if (!n.Is("ColumnRef")) return "";
  auto fields = n.List("fields");
  if (fields.size() != 1 || !fields[0].Is("String")) return "";
  return std::string(StringValue(fields[0]));
}

// A value NULL-safe set operation keys replace NULL with (paired with an is_null key);
// null when the type has none.
std::shared_ptr<arrow::Scalar> DefaultValue(
    const std::shared_ptr<arrow::DataType>& type) {
  std::shared_ptr<arrow::Scalar> v;
  if (expr::IsNumeric(*type)) {
    v = CastScalar(arrow::MakeScalar(int64_t{0}), type).ValueOr(nullptr);
  } else if (expr::IsStringLike(*type)) {
    v = CastScalar(arrow::MakeScalar(std::string()), type).ValueOr(nullptr);
  } else if (type->id() == arrow::Type::BOOL) {
    v = arrow::MakeScalar(false);
  } else if (type->id() == arrow::Type::DATE32) {
    v = std::make_shared<arrow::Date32Scalar>(0);
  } else if (type->id() == arrow::Type::DATE64) {
    v = std::make_shared<arrow::Date64Scalar>(0);
  } else if (type->id() == arrow::Type::TIMESTAMP) {
    v = std::make_shared<arrow::TimestampScalar>(0, type);
  }
  return v;
}

Result<Expr> Identity(const Expr& e) { return e; }

// `e` with window placeholders replaced by their columns (others left alone).
Result<Expr> ReplaceWindowPlaceholders(const Expr& e,
                                       const std::map<std::string, Expr>& values) {
  if (IsWindowPlaceholder(e)) {
    auto it = values.find(e->name);
    if (it == values.end()) {
      return ErrorAt(e->position, "internal: window ", e->name, " was not planned");
    }
    return it->second;
  }
  if (e->args.empty()) return e;
  auto n = std::make_shared<expr::ExprNode>(*e);
  for (auto& a : n->args) {
    ARROW_ASSIGN_OR_RAISE(a, ReplaceWindowPlaceholders(a, values));
  }
  return Expr(n);
}

// The pending subquery a placeholder stands for.
const PendingSubquery* FindSubquery(const std::vector<PendingSubquery>& subs,
                                    const Expr& placeholder) {
  for (const auto& p : subs) {
    if (p.name == placeholder->name) return &p;
  }
  return nullptr;
}

}  // namespace

Result<BoundSubquery> QueryBinder::BindSubquery(const PendingSubquery& p,
                                                const Scope& outer) {
  BoundSubquery sq;
  sq.what = p;
  if (!p.select.Is("SelectStmt")) return NotSupported(p.position, "this subquery");
  SubqueryFrame frame{&outer, &sq};
  enclosing_.push_back(&outer);
  auto bound = BindSelect(p.select, &frame);
  enclosing_.pop_back();
  ARROW_ASSIGN_OR_RAISE(sq.plan, std::move(bound));
  // A set operation is bound without the frame: uncorrelated, all columns visible.
  if (sq.visible == 0) sq.visible = sq.plan->schema->num_fields();
  return sq;
}

Result<Plan> QueryBinder::ApplyWhere(Plan plan, const Scope& scope,
                                     const std::vector<Expr>& terms,
                                     const std::vector<PendingSubquery>& subqueries) {
  std::vector<Expr> plain;
  std::vector<Expr> rest;
  std::vector<std::pair<const PendingSubquery*, bool>> semi;  // (subquery, anti)
  for (const auto& t : terms) {
    if (!ContainsSubquery(t)) {
      plain.push_back(t);
      continue;
    }
    bool negated = t->kind == ExprKind::kCall && t->name == "not";
    const Expr& inner = negated ? t->args[0] : t;
    const PendingSubquery* p =
        IsSubqueryPlaceholder(inner) ? FindSubquery(subqueries, inner) : nullptr;
    // NOT IN is left to the general form: a NULL in the set makes it unknown.
    if (p != nullptr &&
        (p->kind == SubqueryKind::kExists ||
         (p->kind == SubqueryKind::kIn && !negated && !ContainsSubquery(p->test)))) {
      semi.emplace_back(p, negated);
    } else {
      rest.push_back(t);
    }
  }
  if (!plain.empty()) {
    ARROW_ASSIGN_OR_RAISE(plan, Filter(plan, expr::MakeConjunction(plain)));
  }
  for (const auto& [p, anti] : semi) {
    ARROW_ASSIGN_OR_RAISE(BoundSubquery sq, BindSubquery(*p, scope));
    ARROW_ASSIGN_OR_RAISE(
        plan, WithPosition(SemiJoinSubquery(plan, sq, anti, Identity), p->position));
  }
  if (rest.empty()) return plan;
  // Every other subquery is used by the remaining terms, directly or inside the IN
  // test of one that is.
  std::vector<PendingSubquery> used;
  for (const auto& p : subqueries) {
    bool semi_joined = std::any_of(
        semi.begin(), semi.end(), [&](const auto& s) { return s.first->name == p.name; });
    if (!semi_joined) used.push_back(p);
  }
  std::map<std::string, Expr> values;
  ARROW_ASSIGN_OR_RAISE(plan, AttachSubqueries(plan, scope, used, Identity, &values));
  Expr predicate = expr::MakeConjunction(rest);
  ARROW_ASSIGN_OR_RAISE(predicate, ReplacePlaceholders(predicate, values));
  return Filter(plan, predicate);
}

Result<Plan> QueryBinder::AttachSubqueries(Plan plan, const Scope& scope,
                                           const std::vector<PendingSubquery>& subqueries,
                                           const OuterMapper& map,
                                           std::map<std::string, Expr>* values) {
  // A subquery inside another's IN test (`(SELECT ...) IN (SELECT ...)`) was recorded
  // first, so it is joined first and the test sees its value.
  OuterMapper map_then_replace = [&](const Expr& e) -> Result<Expr> {
    ARROW_ASSIGN_OR_RAISE(auto m, map(e));
    return ReplacePlaceholders(m, *values);
  };
  for (const auto& p : subqueries) {
    ARROW_ASSIGN_OR_RAISE(BoundSubquery sq, BindSubquery(p, scope));
    Expr value;
    ARROW_ASSIGN_OR_RAISE(plan, AttachSubquery(plan, sq, map_then_replace, &value));
    (*values)[p.name] = value;
  }
  return plan;
}

Result<Plan> QueryBinder::BindStatement(const PgNode& raw_stmt) {
  PgNode stmt = raw_stmt.Node("stmt");
  int position = static_cast<int>(raw_stmt.Int("stmt_location", 0));
  if (!stmt) return ErrorAt(position, "empty statement");
  if (!stmt.Is("SelectStmt")) return NotSupported(position, StatementName(stmt.tag));
  return BindSelect(stmt);
}

Result<Plan> QueryBinder::BindSelect(const PgNode& select, SubqueryFrame* frame) {
  // CTEs of this statement are visible in it (and in its subqueries) only.
  size_t mark = ctes_.size();
  auto bind = [&]() -> Result<Plan> {
    if (PgNode with = select.Object("withClause")) {
      ARROW_RETURN_NOT_OK(BindWith(with));
    }
    std::string_view op = select.String("op");
    if (op.empty() || op == "SETOP_NONE") return BindSimpleSelect(select, frame);
    return BindSetOperation(select);
  };
  Result<Plan> result = bind();
  ctes_.erase(ctes_.begin() + static_cast<std::ptrdiff_t>(mark), ctes_.end());
  return result;
}

Status QueryBinder::BindWith(const PgNode& with) {
  if (with.Bool("recursive")) return NotSupported(with.Location(), "WITH RECURSIVE");
  size_t first = ctes_.size();
  for (const auto& cte : with.List("ctes")) {
    int position = cte.Location();
    std::string name(cte.String("ctename"));
    for (size_t i = first; i < ctes_.size(); ++i) {
      if (EqualsIgnoreCase(ctes_[i].name, name)) {
        return ErrorAt(position, "WITH query name '", name, "' specified more than once");
      }
    }
    PgNode query = cte.Node("ctequery");
    if (!query.Is("SelectStmt")) {
      return NotSupported(position, "data-modifying statements in WITH");
    }
    ARROW_ASSIGN_OR_RAISE(Plan plan, BindSelect(query));
    std::vector<std::string> names;
    for (const auto& f : plan->schema->fields()) names.push_back(f->name());
    auto renames = cte.List("aliascolnames");
    if (renames.size() > names.size()) {
      return ErrorAt(position, "WITH query '", name, "' has ", names.size(),
                     " columns available but ", renames.size(), " columns specified");
    }
    for (size_t i = 0; i < renames.size(); ++i)
      names[i] = std::string(StringValue(renames[i]));
    // Later CTEs see earlier ones: push as soon as bound.
    ctes_.push_back(Cte{name, plan, std::move(names)});
  }
  return Status::OK();
}

Result<Plan> QueryBinder::BindValues(const PgNode& s) {
  // VALUES (..), (..): constant rows as an in-memory table with columns col0, col1, ...
  // (DuckDB's names), each column of the common type of its values.
  auto rows = s.List("valuesLists");
  int position = rows[0].List("items").empty() ? -1 : rows[0].List("items")[0].Location();
  std::vector<std::vector<std::shared_ptr<arrow::Scalar>>> values;
  size_t width = 0;
  for (const auto& row : rows) {
    auto items = row.List("items");
    if (values.empty()) width = items.size();
    if (items.size() != width) {
      return ErrorAt(items.empty() ? position : items[0].Location(),
                     "VALUES lists must all be the same length");
    }
    std::vector<std::shared_ptr<arrow::Scalar>> vals;
    for (const auto& item : items) {
      ARROW_ASSIGN_OR_RAISE(
          auto e, converter_.Convert(item, ExprContext{nullptr, "VALUES", false}));
      ARROW_ASSIGN_OR_RAISE(auto v, ExprConverter::ConstantValue(e, "a VALUES item"));
      vals.push_back(v);
    }
    values.push_back(std::move(vals));
  }
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  for (size_t c = 0; c < width; ++c) {
    std::shared_ptr<arrow::DataType> type = arrow::null();
    for (const auto& row : values) {
      ARROW_ASSIGN_OR_RAISE(type,
                            WithPosition(expr::CommonType(type, row[c]->type), position));
    }
    if (type->id() == arrow::Type::NA) type = arrow::int32();
    std::unique_ptr<arrow::ArrayBuilder> builder;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), type, &builder));
    for (const auto& row : values) {
      ARROW_ASSIGN_OR_RAISE(auto v, WithPosition(CastScalar(row[c], type), position));
      ARROW_RETURN_NOT_OK(builder->AppendScalar(*v));
    }
    ARROW_ASSIGN_OR_RAISE(auto array, builder->Finish());
    fields.push_back(arrow::field("col" + std::to_string(c), type));
    columns.push_back(array);
  }
  auto table = arrow::Table::Make(arrow::schema(fields), columns,
                                  static_cast<int64_t>(values.size()));
  Plan plan = plan::MakeScan(std::make_shared<exec::InMemoryTable>(table, "VALUES"));
  return ApplyLimit(plan, s);
}

Result<Plan> QueryBinder::BindSimpleSelect(const PgNode& s, SubqueryFrame* frame) {
  if (s.Has("valuesLists")) {
    if (!s.List("sortClause").empty()) {
      return NotSupported(s.List("sortClause")[0].Location(), "ORDER BY on VALUES");
    }
    return BindValues(s);
  }
  int fallback = std::max(SelectPosition(s), 0);
  ARROW_RETURN_NOT_OK(CheckSupported(s, fallback));
  bool distinct = !s.List("distinctClause").empty();

  // FROM
  Relation from;
  auto from_items = s.List("fromClause");
  if (from_items.empty()) {
    ARROW_ASSIGN_OR_RAISE(from.plan, WithPosition(catalog_->SingleRow(), fallback));
    if (!from.plan) return ErrorAt(fallback, "the catalog has no single-row relation");
    from.plan = plan::CopyTree(from.plan);
  } else {
    ARROW_ASSIGN_OR_RAISE(from, BindFromList(from_items));
  }
  Plan plan = from.plan;
  const Scope& scope = from.scope;

  // WHERE. In a subquery, terms using the enclosing query's columns are kept aside
  // (they become join keys or a join condition, see subquery_internal.h).
  CorrelationScope correlation;
  CorrelationScope* corr = nullptr;
  if (frame != nullptr) {
    correlation.outer = frame->outer;
    correlation.base = plan->schema->num_fields();
    correlation.unreachable.assign(enclosing_.begin(), enclosing_.end() - 1);
    corr = &correlation;
  } else if (!enclosing_.empty()) {
    // Inside a subquery but not its top block: no correlation supported here.
    correlation.unreachable = enclosing_;
    corr = &correlation;
  }
  std::vector<Expr> correlated;
  if (PgNode where = s.Node("whereClause")) {
    SubqueryCollector subs{{}, &subquery_counter_};
    ARROW_ASSIGN_OR_RAISE(
        auto predicate,
        converter_.Convert(where, ExprContext{&scope, "WHERE", false, &subs, corr}));
    std::vector<Expr> terms;
    expr::SplitConjunction(predicate, &terms);
    std::vector<Expr> local;
    for (const auto& t : terms) {
      std::vector<int> cols;
      expr::CollectColumns(t, &cols);
      bool outer = frame != nullptr && std::any_of(cols.begin(), cols.end(), [&](int c) {
                     return c >= correlation.base;
                   });
      if (!outer) {
        local.push_back(t);
      } else if (ContainsSubquery(t)) {
        return NotSupported(t->position,
                            "a condition using both the enclosing query and a subquery");
      } else {
        correlated.push_back(t);
      }
    }
    ARROW_ASSIGN_OR_RAISE(plan, ApplyWhere(plan, scope, local, subs.items));
  }
  correlation.allowed = false;

  // Select list, over the FROM columns (aggregates still inside).
  struct Item {
    Expr expr;
    std::string name;
  };
  std::vector<Item> items;
  SubqueryCollector select_subs{{}, &subquery_counter_};
  WindowCollector windows{{}, &window_counter_};
  ExprContext select_ctx{&scope, "SELECT", true, &select_subs, corr, &windows};
  for (const auto& target : s.List("targetList")) {
    int pos = target.Location();
    PgNode val = target.Node("val");
    if (val.Is("ColumnRef")) {
      auto fields = val.List("fields");
      if (!fields.empty() && fields.back().Is("A_Star")) {
        if (fields.size() > 2)
          return NotSupported(pos, "* qualified by more than a table");
        std::string table = fields.size() == 2 ? std::string(StringValue(fields[0])) : "";
        if (from_items.empty()) return ErrorAt(pos, "SELECT * with no tables specified");
        ARROW_ASSIGN_OR_RAISE(auto columns, scope.Expand(table, pos));
        for (const ScopeColumn* c : columns) {
          items.push_back({ColumnAt(c->index, c->name, pos), c->name});
        }
        continue;
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto e, converter_.Convert(val, select_ctx));
    std::string name(target.String("name"));
    if (name.empty() && IsWindowPlaceholder(e)) {
      for (const auto& w : windows.items) {
        if (w.name == e->name) name = w.function.output_name;
      }
    }
    items.push_back({e, name.empty() ? ColumnName(e) : name});
  }

  // ORDER BY: an output column (by position or name) or an expression over FROM.
  struct OrderItem {
    int item = -1;  // select item, or -1 for `expr`
    Expr expr;
    SortSpec spec;
  };
  std::vector<OrderItem> order;
  for (const auto& sort_by : s.List("sortClause")) {
    OrderItem o;
    ARROW_ASSIGN_OR_RAISE(o.spec, ReadSortBy(sort_by));
    const PgNode& node = o.spec.node;
    if (node.Is("A_Const") && node.Has("ival")) {
      ARROW_ASSIGN_OR_RAISE(int64_t k, tree_.IntegerConstant(node));
      if (k < 1 || k > static_cast<int64_t>(items.size())) {
        return ErrorAt(o.spec.position, "ORDER BY position ", k,
                       " is not in the select list");
      }
      o.item = static_cast<int>(k - 1);
    } else if (std::string name = BareName(node); !name.empty()) {
      // A bare name means an output column first (PostgreSQL), else an input column.
      std::vector<int> hits;
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].name == name) hits.push_back(static_cast<int>(i));
      }
      bool exact_hit = !hits.empty();
      for (size_t i = 0; i < items.size() && !exact_hit; ++i) {
        if (EqualsIgnoreCase(items[i].name, name)) hits.push_back(static_cast<int>(i));
      }
      for (int h : hits) {
        if (!expr::Equals(items[h].expr, items[hits[0]].expr)) {
          return ErrorAt(o.spec.position, "ORDER BY '", name, "' is ambiguous");
        }
      }
      if (!hits.empty()) o.item = hits[0];
    }
    if (o.item < 0) {
      ARROW_ASSIGN_OR_RAISE(
          o.expr, converter_.Convert(node, ExprContext{&scope, "ORDER BY", true, nullptr,
                                                       corr, &windows}));
      for (size_t i = 0; i < items.size(); ++i) {
        if (expr::Equals(items[i].expr, o.expr)) {
          o.item = static_cast<int>(i);
          break;
        }
      }
    }
    order.push_back(std::move(o));
  }

  // GROUP BY: expressions over FROM, select positions, or select aliases (after FROM
  // columns, as PostgreSQL resolves them).
  std::vector<Expr> group_keys;
  auto group_by_item = [&](size_t i, int pos) -> Status {
    if (expr::ContainsAggregate(items[i].expr)) {
      return ErrorAt(pos, "aggregate functions are not allowed in GROUP BY");
    }
    group_keys.push_back(items[i].expr);
    return Status::OK();
  };
  for (const auto& g : s.List("groupClause")) {
    int pos = g.Location();
    if (g.Is("GroupingSet")) return NotSupported(pos, "GROUPING SETS, ROLLUP and CUBE");
    if (g.Is("A_Const") && g.Has("ival")) {
      ARROW_ASSIGN_OR_RAISE(int64_t k, tree_.IntegerConstant(g));
      if (k < 1 || k > static_cast<int64_t>(items.size())) {
        return ErrorAt(pos, "GROUP BY position ", k, " is not in the select list");
      }
      ARROW_RETURN_NOT_OK(group_by_item(static_cast<size_t>(k - 1), pos));
      continue;
    }
    if (std::string name = BareName(g); !name.empty()) {
      ARROW_ASSIGN_OR_RAISE(const ScopeColumn* col, scope.Find("", name, pos));
      if (col == nullptr) {
        auto it = std::find_if(items.begin(), items.end(), [&](const Item& item) {
          return EqualsIgnoreCase(item.name, name);
        });
        if (it != items.end()) {
          ARROW_RETURN_NOT_OK(
              group_by_item(static_cast<size_t>(it - items.begin()), pos));
          continue;
        }
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto key,
                          converter_.Convert(g, ExprContext{&scope, "GROUP BY", false}));
    group_keys.push_back(key);
  }

  Expr having;
  SubqueryCollector having_subs{{}, &subquery_counter_};
  if (PgNode h = s.Node("havingClause")) {
    ARROW_ASSIGN_OR_RAISE(
        having,
        converter_.Convert(h, ExprContext{&scope, "HAVING", true, &having_subs, corr}));
  }

  bool grouped = !group_keys.empty() || having != nullptr;
  for (const auto& item : items) grouped = grouped || expr::ContainsAggregate(item.expr);
  for (const auto& o : order)
    grouped = grouped || (o.expr && expr::ContainsAggregate(o.expr));
  const std::vector<Expr> window_exprs = WindowExprs(windows.items);
  for (const auto& e : window_exprs) {
    grouped = grouped || expr::ContainsAggregate(e);
    if (ContainsSubquery(e)) {
      return NotSupported(e->position, "subqueries inside window function calls");
    }
  }
  // Window placeholders in the select list and ORDER BY become the window columns.
  auto replace_windows = [&](const std::map<std::string, Expr>& values) -> Status {
    for (auto& item : items) {
      ARROW_ASSIGN_OR_RAISE(item.expr, ReplaceWindowPlaceholders(item.expr, values));
    }
    for (auto& o : order) {
      if (o.item < 0) {
        ARROW_ASSIGN_OR_RAISE(o.expr, ReplaceWindowPlaceholders(o.expr, values));
      }
    }
    return Status::OK();
  };

  if (frame != nullptr) {
    // A subquery: split the correlated WHERE terms into `inner = outer` keys and other
    // terms, and add the inner columns they need as hidden outputs after the select
    // list. Outer reference k (column base + k) is enclosing-scope index outer_index[k].
    BoundSubquery* out = frame->out;
    int base = correlation.base;
    const auto& refs = correlation.outer_index;
    std::vector<int> to_outer(base + refs.size(), -1);
    for (size_t k = 0; k < refs.size(); ++k) to_outer[base + k] = refs[k];
    auto side = [&](const Expr& e) {
      std::vector<int> cols;
      expr::CollectColumns(e, &cols);
      if (cols.empty()) return 0;
      bool inner = std::all_of(cols.begin(), cols.end(), [&](int c) { return c < base; });
      bool outer =
          std::all_of(cols.begin(), cols.end(), [&](int c) { return c >= base; });
      return inner ? 1 : outer ? 2 : 0;
    };
    bool explicit_groups = !group_keys.empty();
    out->visible = static_cast<int>(items.size());
    std::vector<Expr> extra;
    for (const auto& t : correlated) {
      if (t->kind == ExprKind::kCall && t->name == "=" && t->args.size() == 2) {
        int a = side(t->args[0]);
        int b = side(t->args[1]);
        if ((a == 1 && b == 2) || (a == 2 && b == 1)) {
          const Expr& inner = a == 1 ? t->args[0] : t->args[1];
          const Expr& outer = a == 1 ? t->args[1] : t->args[0];
          out->outer_keys.push_back(expr::RemapColumns(outer, to_outer));
          out->key_columns.push_back(static_cast<int>(items.size()));
          items.push_back({inner, "__key" + std::to_string(out->key_columns.size())});
          if (grouped) group_keys.push_back(inner);
          continue;
        }
      }
      extra.push_back(t);
    }
    if (!extra.empty() && grouped) {
      return NotSupported(extra[0]->position,
                          "a correlated condition other than `inner = outer` in a "
                          "subquery with aggregates or GROUP BY");
    }
    for (const auto& t : extra) {
      std::vector<int> cols;
      expr::CollectColumns(t, &cols);
      for (int c : cols) {
        if (c >= base || to_outer[c] >= 0) continue;
        to_outer[c] = kInnerBase + static_cast<int>(items.size());
        items.push_back({ColumnAt(c, plan->schema->field(c)->name(), t->position),
                         "__inner" + std::to_string(c)});
      }
      out->extra.push_back(expr::RemapColumns(t, to_outer));
    }
    bool limited = s.Has("limitCount") || s.Has("limitOffset");
    if (limited && !correlated.empty()) {
      return NotSupported(correlated[0]->position,
                          "LIMIT / OFFSET in a correlated subquery");
    }
    out->unique_per_key = grouped && !explicit_groups && !having && !limited;
    if (grouped && !explicit_groups && out->visible >= 1) {
      ARROW_ASSIGN_OR_RAISE(out->empty_value, ValueOverNoRows(items[0].expr));
    }
  }
  if (!grouped && !select_subs.items.empty()) {
    std::map<std::string, Expr> values;
    ARROW_ASSIGN_OR_RAISE(
        plan, AttachSubqueries(plan, scope, select_subs.items, Identity, &values));
    for (auto& item : items) {
      ARROW_ASSIGN_OR_RAISE(item.expr, ReplacePlaceholders(item.expr, values));
    }
  }
  if (!grouped && !windows.items.empty()) {
    std::map<std::string, Expr> values;
    ARROW_ASSIGN_OR_RAISE(plan, PlanWindows(plan, windows.items, Identity, &values));
    ARROW_RETURN_NOT_OK(replace_windows(values));
  }

  if (grouped) {
    AggregateSplit split;
    for (const auto& k : group_keys) split.AddKey(k);
    for (const auto& item : items) split.CollectAggregates(item.expr);
    if (having) split.CollectAggregates(having);
    for (const auto& o : order) {
      if (o.item < 0) split.CollectAggregates(o.expr);
    }
    for (const auto& e : window_exprs) split.CollectAggregates(e);
    ARROW_ASSIGN_OR_RAISE(plan, split.MakePlan(plan, fallback));
    // Subqueries in HAVING and the select list are joined to the aggregate's output;
    // their correlation keys must be grouping keys there.
    OuterMapper over_groups = [&](const Expr& e) { return split.Rewrite(e); };
    if (having) {
      ARROW_ASSIGN_OR_RAISE(auto h, split.Rewrite(having));
      std::map<std::string, Expr> values;
      ARROW_ASSIGN_OR_RAISE(
          plan, AttachSubqueries(plan, scope, having_subs.items, over_groups, &values));
      ARROW_ASSIGN_OR_RAISE(h, ReplacePlaceholders(h, values));
      ARROW_ASSIGN_OR_RAISE(plan, Filter(plan, h));
    }
    std::map<std::string, Expr> values;
    ARROW_ASSIGN_OR_RAISE(
        plan, AttachSubqueries(plan, scope, select_subs.items, over_groups, &values));
    for (auto& item : items) {
      ARROW_ASSIGN_OR_RAISE(item.expr, split.Rewrite(item.expr));
      ARROW_ASSIGN_OR_RAISE(item.expr, ReplacePlaceholders(item.expr, values));
    }
    for (auto& o : order) {
      if (o.item < 0) {
        ARROW_ASSIGN_OR_RAISE(o.expr, split.Rewrite(o.expr));
      }
    }
    if (!windows.items.empty()) {
      std::map<std::string, Expr> window_values;
      ARROW_ASSIGN_OR_RAISE(
          plan, PlanWindows(plan, windows.items, over_groups, &window_values));
      ARROW_RETURN_NOT_OK(replace_windows(window_values));
    }
  }

  // Project the select list, plus ORDER BY expressions that are not in it.
  std::vector<Expr> exprs;
  for (const auto& item : items) exprs.push_back(Named(item.expr, item.name));
  size_t visible = exprs.size();
  for (auto& o : order) {
    if (o.item >= 0) continue;
    if (distinct) {
      return ErrorAt(
          o.spec.position,
          "for SELECT DISTINCT, ORDER BY expressions must appear in the select list");
    }
    o.item = static_cast<int>(exprs.size());
    exprs.push_back(Named(o.expr, "__order_" + std::to_string(o.item)));
  }
  ARROW_ASSIGN_OR_RAISE(plan, Project(plan, exprs, fallback));
  if (distinct) {
    ARROW_ASSIGN_OR_RAISE(plan, WithPosition(plan::MakeDistinct(plan), fallback));
  }
  if (!order.empty()) {
    std::vector<plan::SortKey> keys;
    for (const auto& o : order) {
      keys.push_back(
          {ColumnAt(o.item, plan->schema->field(o.item)->name(), o.spec.position),
           o.spec.ascending, o.spec.nulls_first});
    }
    ARROW_ASSIGN_OR_RAISE(
        plan, WithPosition(plan::MakeSort(plan, keys), order[0].spec.position));
  }
  ARROW_ASSIGN_OR_RAISE(plan, ApplyLimit(plan, s));
  if (exprs.size() > visible) {
    std::vector<Expr> keep;
    for (size_t i = 0; i < visible; ++i) {
      const auto& f = plan->schema->field(static_cast<int>(i));
      keep.push_back(Named(ColumnAt(static_cast<int>(i), f->name(), -1), f->name()));
    }
    ARROW_ASSIGN_OR_RAISE(plan, Project(plan, keep, fallback));
  }
  return plan;
}

Result<Plan> QueryBinder::ApplyLimit(Plan plan, const PgNode& s) {
  PgNode count = s.Node("limitCount");
  PgNode offset = s.Node("limitOffset");
  if (s.String("limitOption") == "LIMIT_OPTION_WITH_TIES") {
    return NotSupported(count.Location(), "FETCH ... WITH TIES");
  }
  if (!count && !offset) return plan;
  // NULL means no limit (LIMIT ALL / LIMIT NULL) and no offset.
  auto value = [&](const PgNode& n, const char* clause,
                   int64_t if_null) -> Result<int64_t> {
    ARROW_ASSIGN_OR_RAISE(auto e,
                          converter_.Convert(n, ExprContext{nullptr, clause, false}));
    ARROW_ASSIGN_OR_RAISE(auto v, ExprConverter::ConstantValue(e, clause));
    if (!v->is_valid) return if_null;
    if (!expr::IsInteger(*v->type))
      return ErrorAt(e->position, clause, " must be an integer");
    ARROW_ASSIGN_OR_RAISE(auto c, CastScalar(v, arrow::int64()));
    int64_t x = static_cast<const arrow::Int64Scalar&>(*c).value;
    if (x < 0) return ErrorAt(e->position, clause, " must not be negative");
    return x;
  };
  int64_t limit = -1;
  int64_t skip = 0;
  if (count) {
    ARROW_ASSIGN_OR_RAISE(limit, value(count, "LIMIT", -1));
  }
  if (offset) {
    ARROW_ASSIGN_OR_RAISE(skip, value(offset, "OFFSET", 0));
  }
  return WithPosition(plan::MakeLimit(plan, limit, skip),
                      count ? count.Location() : offset.Location());
}

Result<Plan> QueryBinder::BindSetOperation(const PgNode& s) {
  std::string_view op = s.String("op");
  bool all = s.Bool("all");
  PgNode larg = s.Object("larg");
  PgNode rarg = s.Object("rarg");
  int fallback = std::max(SelectPosition(rarg), 0);
  ARROW_RETURN_NOT_OK(CheckSupported(s, fallback));
  const char* op_name = op == "SETOP_UNION"       ? "UNION"
                        : op == "SETOP_INTERSECT" ? "INTERSECT"
                                                  : "EXCEPT";
  Plan result;
  if (op == "SETOP_UNION") {
    // (a UNION ALL b) UNION ALL c binds as one three-input union.
    std::vector<PgNode> arms;
    std::vector<PgNode> pending = {rarg, larg};
    while (!pending.empty()) {
      PgNode arm = pending.back();
      pending.pop_back();
      bool flatten = arm.String("op") == op && arm.Bool("all") == all &&
                     !arm.Has("sortClause") && !arm.Has("limitCount") &&
                     !arm.Has("limitOffset") && !arm.Has("withClause");
      if (flatten) {
        pending.push_back(arm.Object("rarg"));
        pending.push_back(arm.Object("larg"));
      } else {
        arms.push_back(arm);
      }
    }
    std::vector<Plan> inputs;
    for (const auto& arm : arms) {
      ARROW_ASSIGN_OR_RAISE(auto p, BindSelect(arm));
      inputs.push_back(p);
    }
    ARROW_ASSIGN_OR_RAISE(result, WithPosition(plan::MakeUnion(inputs, all), fallback));
  } else if (op == "SETOP_INTERSECT" || op == "SETOP_EXCEPT") {
    if (all) return NotSupported(fallback, std::string(op_name) + " ALL");
    ARROW_ASSIGN_OR_RAISE(Plan left, BindSelect(larg));
    ARROW_ASSIGN_OR_RAISE(Plan right, BindSelect(rarg));
    int n = left->schema->num_fields();
    if (right->schema->num_fields() != n) {
      return ErrorAt(fallback, "each ", op_name,
                     " query must have the same number of columns (", n, " and ",
                     right->schema->num_fields(), ")");
    }
    // Rows match when all columns are equal with NULL equal to NULL: each column gives
    // the keys (coalesce(x, v), x IS NULL) for a type default v, or failing a default,
    // a NOT (l IS DISTINCT FROM r) term of the join condition.
    std::vector<Expr> left_keys;
    std::vector<Expr> right_keys;
    std::vector<Expr> condition;
    for (int i = 0; i < n; ++i) {
      const auto& lf = left->schema->field(i);
      const auto& rf = right->schema->field(i);
      auto common = expr::CommonType(lf->type(), rf->type());
      if (!common.ok()) {
        return ErrorAt(fallback, op_name, " column ", i + 1, " (", lf->name(),
                       "): ", common.status().message());
      }
      Expr l = ColumnAt(i, lf->name(), fallback);
      Expr r = ColumnAt(i, rf->name(), fallback);
      if (auto def = DefaultValue(*common)) {
        left_keys.push_back(expr::Call("coalesce", {l, expr::Literal(def)}));
        right_keys.push_back(expr::Call("coalesce", {r, expr::Literal(def)}));
        left_keys.push_back(expr::Call("is_null", {l}));
        right_keys.push_back(expr::Call("is_null", {r}));
      } else {
        condition.push_back(
            expr::Call("not", {expr::Call("is_distinct_from",
                                          {l, ColumnAt(n + i, rf->name(), fallback)})}));
      }
    }
    JoinType type = op == "SETOP_INTERSECT" ? JoinType::kSemi : JoinType::kAnti;
    ARROW_ASSIGN_OR_RAISE(
        result, WithPosition(plan::MakeJoin(left, right, type, left_keys, right_keys,
                                            expr::MakeConjunction(condition)),
                             fallback));
    ARROW_ASSIGN_OR_RAISE(result, WithPosition(plan::MakeDistinct(result), fallback));
  } else {
    return NotSupported(fallback, "set operation " + std::string(op));
  }

  // ORDER BY of the whole statement: output columns by position, name or expression.
  Scope out = Scope::FromSchema(*result->schema, "");
  std::vector<plan::SortKey> keys;
  for (const auto& sort_by : s.List("sortClause")) {
    ARROW_ASSIGN_OR_RAISE(SortSpec spec, ReadSortBy(sort_by));
    Expr key;
    if (spec.node.Is("A_Const") && spec.node.Has("ival")) {
      ARROW_ASSIGN_OR_RAISE(int64_t k, tree_.IntegerConstant(spec.node));
      if (k < 1 || k > result->schema->num_fields()) {
        return ErrorAt(spec.position, "ORDER BY position ", k,
                       " is not in the select list");
      }
      int i = static_cast<int>(k - 1);
      key = ColumnAt(i, result->schema->field(i)->name(), spec.position);
    } else {
      ARROW_ASSIGN_OR_RAISE(
          key, converter_.Convert(spec.node, ExprContext{&out, "ORDER BY", false}));
    }
    keys.push_back({key, spec.ascending, spec.nulls_first});
  }
  if (!keys.empty()) {
    std::vector<Expr> key_exprs;
    for (const auto& k : keys) key_exprs.push_back(k.expr);
    auto sorted = plan::MakeSort(result, keys);
    if (!sorted.ok()) {
      return RelocateBindError(sorted.status(), key_exprs, *result->schema, false,
                               keys[0].expr->position);
    }
    result = *sorted;
  }
  return ApplyLimit(result, s);
}

Result<QueryBinder::Relation> QueryBinder::BindFromList(
    const std::vector<PgNode>& items) {
  ARROW_ASSIGN_OR_RAISE(Relation rel, BindFromItem(items[0]));
  for (size_t i = 1; i < items.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(Relation next, BindFromItem(items[i]));
    int position = next.position;
    ARROW_ASSIGN_OR_RAISE(rel, Join(std::move(rel), std::move(next), JoinType::kInner,
                                    PgNode{}, {}, position));
  }
  return rel;
}

Result<QueryBinder::Relation> QueryBinder::BindFromItem(const PgNode& item) {
  if (item.Is("RangeVar")) return BindRangeVar(item);
  if (item.Is("JoinExpr")) return BindJoinExpr(item);
  if (item.Is("RangeSubselect")) return BindRangeSubselect(item);
  if (item.Is("RangeFunction")) return BindRangeFunction(item);
  if (item.Is("RangeTableSample")) return NotSupported(item.Location(), "TABLESAMPLE");
  return NotSupported(item.Location(), "FROM item " + std::string(item.tag));
}

Status QueryBinder::ApplyAlias(const PgNode& alias, const std::string& default_name,
                               int position, Relation* rel) {
  std::string table = alias ? std::string(alias.String("aliasname")) : default_name;
  auto renames = alias ? alias.List("colnames") : std::vector<PgNode>{};
  const auto& columns = rel->scope.columns();
  if (renames.size() > columns.size()) {
    return ErrorAt(position, "table '", table, "' has ", columns.size(),
                   " columns available but ", renames.size(), " columns specified");
  }
  Scope scope;
  for (size_t i = 0; i < columns.size(); ++i) {
    ScopeColumn c = columns[i];
    c.table = table;
    if (i < renames.size()) c.name = std::string(StringValue(renames[i]));
    scope.Add(std::move(c));
  }
  rel->scope = std::move(scope);
  return Status::OK();
}

Result<QueryBinder::Relation> QueryBinder::BindRangeVar(const PgNode& rv) {
  std::string name(rv.String("relname"));
  if (rv.Has("catalogname")) {
    return NotSupported(rv.Location(), "table names with a catalog (a.b.c)");
  }
  ARROW_ASSIGN_OR_RAISE(
      Relation rel,
      BindTableName(name, std::string(rv.String("schemaname")), rv.Location()));
  ARROW_RETURN_NOT_OK(ApplyAlias(rv.Object("alias"), name, rel.position, &rel));
  return rel;
}

Result<QueryBinder::Relation> QueryBinder::BindTableName(const std::string& name,
                                                         const std::string& schema,
                                                         int position) {
  Relation rel;
  rel.position = position;
  if (schema.empty()) {
    for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
      if (!EqualsIgnoreCase(it->name, name)) continue;
      rel.plan = plan::CopyTree(it->plan);
      for (size_t i = 0; i < it->column_names.size(); ++i) {
        rel.scope.Add(ScopeColumn{name, it->column_names[i], static_cast<int>(i)});
      }
      return rel;
    }
  }
  std::string full = schema.empty() ? name : schema + "." + name;
  ARROW_ASSIGN_OR_RAISE(Plan plan, WithPosition(catalog_->FindTable(full), position));
  if (!plan) return ErrorAt(position, "unknown table '", full, "'");
  rel.plan = plan::CopyTree(plan);
  rel.scope = Scope::FromSchema(*rel.plan->schema, name);
  return rel;
}

Result<QueryBinder::Relation> QueryBinder::BindTimeWindow(const std::string& function,
                                                          const PgNode& call) {
  const int position = call.Location();
  std::vector<PgNode> args;
  std::vector<PgNode> named;  // allowed_lateness => ...
  for (const auto& a : call.List("args"))
    (a.Is("NamedArgExpr") ? named : args).push_back(a);
  const auto kind = function == "tumble" ? plan::TimeWindowKind::kTumble
                    : function == "hop"  ? plan::TimeWindowKind::kHop
                                         : plan::TimeWindowKind::kSession;
  const size_t expected = kind == plan::TimeWindowKind::kHop ? 4 : 3;
  const std::string upper = AsciiUpper(function);
  const char* usage = kind == plan::TimeWindowKind::kTumble ? "(table, time_column, size)"
                      : kind == plan::TimeWindowKind::kHop
                          ? "(table, time_column, slide, size)"
                          : "(table, time_column, gap)";
  if (args.size() != expected) {
    return ErrorAt(position, upper, " takes ", expected, " arguments: ", upper, usage);
  }
  auto names = [&](const PgNode& a,
                   const char* what) -> Result<std::vector<std::string>> {
    if (!a.Is("ColumnRef")) {
      return ErrorAt(a.Location(), upper, ": the ", what, " must be a name: ", upper,
                     usage);
    }
    std::vector<std::string> out;
    for (const auto& f : a.List("fields")) {
      if (!f.Is("String")) return ErrorAt(a.Location(), upper, ": '*' is not a ", what);
      out.push_back(std::string(StringValue(f)));
    }
    return out;
  };
  ARROW_ASSIGN_OR_RAISE(auto table, names(args[0], "table"));
  if (table.size() > 2) {
    return NotSupported(args[0].Location(), "table names with a catalog (a.b.c)");
  }
  const std::string table_name = table.back();
  ARROW_ASSIGN_OR_RAISE(
      Relation rel,
      BindTableName(table_name, table.size() == 2 ? table[0] : "", args[0].Location()));
  ARROW_ASSIGN_OR_RAISE(auto time, names(args[1], "time column"));
  if (time.size() != 1) {
    return ErrorAt(args[1].Location(), upper, ": name the time column without a table");
  }
  ARROW_ASSIGN_OR_RAISE(const ScopeColumn* col,
                        rel.scope.Find("", time[0], args[1].Location()));
  if (col == nullptr) {
    return ErrorAt(args[1].Location(), upper, ": no column '", time[0], "' in '",
                   table_name, "' (it has ", rel.scope.Describe(), ")");
  }
  std::vector<int64_t> durations;
  const char* what[] = {kind == plan::TimeWindowKind::kHop       ? "slide"
                        : kind == plan::TimeWindowKind::kSession ? "gap"
                                                                 : "size",
                        "size"};
  ExprContext ctx{nullptr, "window durations", false};
  for (size_t i = 2; i < args.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto e, converter_.Convert(args[i], ctx));
    ARROW_ASSIGN_OR_RAISE(auto v, ExprConverter::ConstantValue(e, "a window duration"));
    ARROW_ASSIGN_OR_RAISE(
        int64_t us, WithPosition(plan::DurationMicros(
                                     *v, upper + ": the " + std::string(what[i - 2])),
                                 args[i].Location()));
    durations.push_back(us);
  }
  int64_t lateness = 0;
  for (const auto& a : named) {
    const std::string arg_name(a.String("name"));
    if (arg_name != "allowed_lateness") {
      return ErrorAt(a.Location(), upper, ": unknown option '", arg_name,
                     "' (it takes allowed_lateness)");
    }
    ARROW_ASSIGN_OR_RAISE(auto e, converter_.Convert(a.Node("arg"), ctx));
    ARROW_ASSIGN_OR_RAISE(auto v, ExprConverter::ConstantValue(e, "a window duration"));
    ARROW_ASSIGN_OR_RAISE(
        lateness, WithPosition(plan::DurationMicros(*v, upper + ": allowed_lateness"),
                               a.Location()));
    if (lateness < 0) {
      return ErrorAt(a.Location(), upper, ": allowed_lateness must not be negative");
    }
  }
  int64_t size = 0, slide = 0, gap = 0;
  if (kind == plan::TimeWindowKind::kTumble) size = durations[0];
  if (kind == plan::TimeWindowKind::kHop) slide = durations[0], size = durations[1];
  if (kind == plan::TimeWindowKind::kSession) gap = durations[0];
  ARROW_ASSIGN_OR_RAISE(
      rel.plan,
      WithPosition(plan::MakeTimeWindow(rel.plan, col->index, kind, size, slide, gap),
                   position));
  static_cast<plan::TimeWindowNode&>(*rel.plan).lateness_us = lateness;
  const int n = rel.plan->schema->num_fields();
  rel.scope.Add(ScopeColumn{table_name, "window_start", n - 2});
  rel.scope.Add(ScopeColumn{table_name, "window_end", n - 1});
  rel.position = position;
  return rel;
}

Result<QueryBinder::Relation> QueryBinder::BindRangeFunction(const PgNode& rf) {
  auto functions = rf.List("functions");
  if (functions.empty())
    return Status::Invalid("internal: table function without a call");
  auto parts = functions[0].List("items");
  PgNode call = parts.empty() ? PgNode{} : parts[0];
  int position = call.Location();
  if (rf.Bool("lateral")) return NotSupported(position, "LATERAL");
  if (rf.Bool("ordinality")) return NotSupported(position, "WITH ORDINALITY");
  if (rf.Bool("is_rowsfrom") || functions.size() != 1)
    return NotSupported(position, "ROWS FROM");
  if (rf.Has("coldeflist") || (parts.size() > 1 && parts[1])) {
    return NotSupported(position, "column definition lists");
  }
  if (!call.Is("FuncCall")) return NotSupported(position, "this table function syntax");
  std::string name;
  for (const auto& part : call.List("funcname")) {
    name += (name.empty() ? "" : ".") + AsciiLower(StringValue(part));
  }
  if (name == "tumble" || name == "hop" || name == "session") {
    ARROW_ASSIGN_OR_RAISE(Relation rel, BindTimeWindow(name, call));
    ARROW_RETURN_NOT_OK(ApplyAlias(rf.Object("alias"), name, position, &rel));
    return rel;
  }
  std::vector<std::shared_ptr<arrow::Scalar>> args;
  std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>> named;
  ExprContext ctx{nullptr, "table function arguments", false};
  for (const auto& a : call.List("args")) {
    bool is_named = a.Is("NamedArgExpr");
    ARROW_ASSIGN_OR_RAISE(auto e, converter_.Convert(is_named ? a.Node("arg") : a, ctx));
    ARROW_ASSIGN_OR_RAISE(auto v,
                          ExprConverter::ConstantValue(e, "a table function argument"));
    if (is_named) {
      named.emplace_back(std::string(a.String("name")), v);
    } else {
      args.push_back(v);
    }
  }
  Relation rel;
  rel.position = position;
  ARROW_ASSIGN_OR_RAISE(
      Plan plan, WithPosition(catalog_->CallTableFunction(name, args, named), position));
  if (!plan) return ErrorAt(position, "unknown table function '", name, "'");
  rel.plan = plan::CopyTree(plan);
  rel.scope = Scope::FromSchema(*rel.plan->schema, name);
  ARROW_RETURN_NOT_OK(ApplyAlias(rf.Object("alias"), name, position, &rel));
  return rel;
}

Result<QueryBinder::Relation> QueryBinder::BindRangeSubselect(const PgNode& rs) {
  PgNode query = rs.Node("subquery");
  int position = SelectPosition(query);
  if (rs.Bool("lateral")) return NotSupported(position, "LATERAL");
  if (!query.Is("SelectStmt")) return NotSupported(position, "this subquery");
  Relation rel;
  rel.position = position;
  ARROW_ASSIGN_OR_RAISE(rel.plan, BindSelect(query));
  rel.scope = Scope::FromSchema(*rel.plan->schema, "");
  ARROW_RETURN_NOT_OK(ApplyAlias(rs.Object("alias"), "", position, &rel));
  return rel;
}

Result<QueryBinder::Relation> QueryBinder::BindJoinExpr(const PgNode& j) {
  std::string_view kind = j.String("jointype");
  JoinType type;
  if (kind.empty() || kind == "JOIN_INNER") {
    type = JoinType::kInner;
  } else if (kind == "JOIN_LEFT") {
    type = JoinType::kLeft;
  } else if (kind == "JOIN_RIGHT") {
    type = JoinType::kRight;
  } else if (kind == "JOIN_FULL") {
    type = JoinType::kFull;
  } else {
    return NotSupported(j.Node("rarg").Location(), "join type " + std::string(kind));
  }
  ARROW_ASSIGN_OR_RAISE(Relation left, BindFromItem(j.Node("larg")));
  ARROW_ASSIGN_OR_RAISE(Relation right, BindFromItem(j.Node("rarg")));
  int position = right.position;
  if (j.Has("alias") || j.Has("join_using_alias")) {
    return NotSupported(position, "aliases on joins");
  }
  std::vector<std::string> using_columns;
  for (const auto& u : j.List("usingClause")) using_columns.emplace_back(StringValue(u));
  if (j.Bool("isNatural")) {
    // NATURAL: USING every column name both sides can see.
    for (const auto& c : left.scope.columns()) {
      if (!c.unqualified) continue;
      if (std::find(using_columns.begin(), using_columns.end(), c.name) !=
          using_columns.end()) {
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(const ScopeColumn* other,
                            right.scope.Find("", c.name, position));
      if (other != nullptr) using_columns.push_back(c.name);
    }
  }
  Relation joined;
  ARROW_ASSIGN_OR_RAISE(joined, Join(std::move(left), std::move(right), type,
                                     j.Node("quals"), using_columns, position));
  return joined;
}

Result<QueryBinder::Relation> QueryBinder::Join(
    Relation left, Relation right, JoinType type, const PgNode& quals,
    const std::vector<std::string>& using_columns, int position) {
  for (const auto& t : right.scope.Tables()) {
    if (left.scope.HasTable(t)) {
      return ErrorAt(position, "table name '", t,
                     "' specified more than once: give one of them an alias");
    }
  }
  int nl = left.plan->schema->num_fields();
  int nr = right.plan->schema->num_fields();
  Relation out;
  out.position = left.position;

  if (!using_columns.empty()) {
    // USING (k): equi-join on the named columns; the bare name k then means the merged
    // column (the left one, the right one for RIGHT joins, COALESCE of both for FULL)
    // and `*` shows it once, first.
    std::vector<Expr> left_keys;
    std::vector<Expr> right_keys;
    std::vector<int> left_index;
    std::vector<int> right_index;
    std::vector<std::string> names;
    for (size_t k = 0; k < using_columns.size(); ++k) {
      const std::string& name = using_columns[k];
      for (size_t i = 0; i < k; ++i) {
        if (EqualsIgnoreCase(using_columns[i], name)) {
          return ErrorAt(position, "column '", name, "' appears more than once in USING");
        }
      }
      ARROW_ASSIGN_OR_RAISE(const ScopeColumn* lc, left.scope.Find("", name, position));
      if (lc == nullptr) {
        return ErrorAt(position, "column '", name, "' in USING is not in the left table");
      }
      ARROW_ASSIGN_OR_RAISE(const ScopeColumn* rc, right.scope.Find("", name, position));
      if (rc == nullptr) {
        return ErrorAt(position, "column '", name,
                       "' in USING is not in the right table");
      }
      left_keys.push_back(ColumnAt(lc->index, lc->name, position));
      right_keys.push_back(ColumnAt(rc->index, rc->name, position));
      left_index.push_back(lc->index);
      right_index.push_back(rc->index);
      names.push_back(lc->name);
    }
    ARROW_ASSIGN_OR_RAISE(
        out.plan,
        WithPosition(plan::MakeJoin(left.plan, right.plan, type, left_keys, right_keys),
                     position));
    std::vector<int> merged(names.size());
    if (type == JoinType::kFull) {
      std::vector<Expr> exprs;
      for (int i = 0; i < nl + nr; ++i) {
        const auto& f = out.plan->schema->field(i);
        exprs.push_back(Named(ColumnAt(i, f->name(), position), f->name()));
      }
      for (size_t k = 0; k < names.size(); ++k) {
        merged[k] = nl + nr + static_cast<int>(k);
        auto coalesce = expr::WithPosition(
            expr::Call("coalesce", {ColumnAt(left_index[k], names[k], position),
                                    ColumnAt(nl + right_index[k], names[k], position)}),
            position);
        exprs.push_back(Named(coalesce, names[k]));
      }
      ARROW_ASSIGN_OR_RAISE(out.plan, Project(out.plan, exprs, position));
    } else {
      for (size_t k = 0; k < names.size(); ++k) {
        merged[k] = type == JoinType::kRight ? nl + right_index[k] : left_index[k];
      }
    }
    for (size_t k = 0; k < names.size(); ++k)
      out.scope.Add(ScopeColumn{"", names[k], merged[k]});
    auto add_side = [&](const Scope& side, const std::vector<int>& keys, int offset) {
      for (ScopeColumn c : side.columns()) {
        if (std::find(keys.begin(), keys.end(), c.index) != keys.end()) {
          c.in_star = false;
          c.unqualified = false;
        }
        c.index += offset;
        out.scope.Add(std::move(c));
      }
    };
    add_side(left.scope, left_index, 0);
    add_side(right.scope, right_index, nl);
    return out;
  }

  out.scope = left.scope;
  out.scope.Append(right.scope, nl);
  std::vector<Expr> left_keys;
  std::vector<Expr> right_keys;
  std::vector<Expr> rest;
  int fallback = position;
  if (quals) {
    ARROW_ASSIGN_OR_RAISE(
        auto condition,
        converter_.Convert(quals, ExprContext{&out.scope, "JOIN condition", false}));
    fallback = condition->position;
    // Equi-join keys: `l = r` terms whose sides use only left and only right columns.
    std::vector<int> to_right(nl + nr, -1);
    for (int i = nl; i < nl + nr; ++i) to_right[i] = i - nl;
    std::vector<Expr> terms;
    expr::SplitConjunction(condition, &terms);
    for (const auto& term : terms) {
      if (term->kind == ExprKind::kCall && term->name == "=" && term->args.size() == 2) {
        std::vector<int> a;
        std::vector<int> b;
        expr::CollectColumns(term->args[0], &a);
        expr::CollectColumns(term->args[1], &b);
        auto only_left = [&](const std::vector<int>& v) {
          return !v.empty() &&
                 std::all_of(v.begin(), v.end(), [&](int i) { return i < nl; });
        };
        auto only_right = [&](const std::vector<int>& v) {
          return !v.empty() &&
                 std::all_of(v.begin(), v.end(), [&](int i) { return i >= nl; });
        };
        if (only_left(a) && only_right(b)) {
          left_keys.push_back(term->args[0]);
          right_keys.push_back(expr::RemapColumns(term->args[1], to_right));
          continue;
        }
        if (only_right(a) && only_left(b)) {
          left_keys.push_back(term->args[1]);
          right_keys.push_back(expr::RemapColumns(term->args[0], to_right));
          continue;
        }
      }
      rest.push_back(term);
    }
  }
  auto joined = plan::MakeJoin(left.plan, right.plan, type, left_keys, right_keys,
                               expr::MakeConjunction(rest));
  if (!joined.ok()) {
    if (!AllBind(left_keys, *left.plan->schema)) {
      return RelocateBindError(joined.status(), left_keys, *left.plan->schema, false,
                               fallback);
    }
    if (!AllBind(right_keys, *right.plan->schema)) {
      return RelocateBindError(joined.status(), right_keys, *right.plan->schema, false,
                               fallback);
    }
    arrow::FieldVector both = left.plan->schema->fields();
    for (const auto& f : right.plan->schema->fields()) both.push_back(f);
    return RelocateBindError(joined.status(), rest, arrow::Schema(both), false, fallback);
  }
  out.plan = *joined;
  return out;
}

}  // namespace sluice::sql::internal
