#include "sluice/sql/subquery_internal.h"

#include "sluice/expr/binder.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/plan/plan_rewrite.h"
#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

using expr::Expr;
using expr::ExprKind;
using plan::JoinType;
using plan::Plan;

namespace {

constexpr const char* kPlaceholderPrefix = "__subquery_";

Expr ColumnOf(const Plan& p, int index) {
  const auto& f = p->schema->field(index);
  return expr::BoundColumn(index, f->name(), f->type());
}

Expr Named(const Expr& e, const std::string& name) { return expr::Alias(e, name); }

Expr True() { return expr::Literal(arrow::MakeScalar(true)); }

// Rewrites the Column nodes of `e` with `fn` (other nodes are copied as needed).
Result<Expr> MapColumns(const Expr& e,
                        const std::function<Result<Expr>(const Expr&)>& fn) {
  if (e->kind == ExprKind::kColumn) return fn(e);
  if (e->args.empty()) return e;
  auto n = std::make_shared<expr::ExprNode>(*e);
  for (auto& a : n->args) {
    ARROW_ASSIGN_OR_RAISE(a, MapColumns(a, fn));
  }
  return Expr(n);
}

// The subquery's extra condition over outer ++ subquery output.
Result<Expr> ExtraCondition(const BoundSubquery& sq, int outer_width) {
  Expr all = expr::MakeConjunction(sq.extra);
  if (!all) return all;
  return MapColumns(all, [&](const Expr& c) -> Result<Expr> {
    if (c->index < kInnerBase) return c;
    auto n = std::make_shared<expr::ExprNode>(*c);
    n->index = outer_width + (c->index - kInnerBase);
    n->type = nullptr;
    return Expr(n);
  });
}

Result<std::vector<Expr>> MapAll(const std::vector<Expr>& exprs, const OuterMapper& map) {
  std::vector<Expr> out;
  for (const auto& e : exprs) {
    ARROW_ASSIGN_OR_RAISE(auto m, map(e));
    out.push_back(std::move(m));
  }
  return out;
}

Status CheckColumns(const BoundSubquery& sq) {
  if (sq.visible != 1) {
    return ErrorAt(sq.what.position, "the subquery returns ", sq.visible,
                   " columns; it must return exactly one here");
  }
  return Status::OK();
}

Status NoExtraCondition(const BoundSubquery& sq, const char* what) {
  if (sq.extra.empty()) return Status::OK();
  return NotSupported(sq.what.position,
                      std::string(what) +
                          " whose correlation is not `inner = outer` equalities, except "
                          "EXISTS / IN as an AND-ed condition of WHERE");
}

// Projection of the subquery's columns `cols`, then `marker` (TRUE) if asked.
Result<Plan> ProjectColumns(const Plan& p, const std::vector<int>& cols, bool marker) {
  std::vector<Expr> exprs;
  for (size_t i = 0; i < cols.size(); ++i) {
    exprs.push_back(Named(ColumnOf(p, cols[i]), "__c" + std::to_string(i)));
  }
  if (marker) exprs.push_back(Named(True(), "__match"));
  return plan::MakeProject(p, exprs);
}

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

// Joins `right` (whose first `nkeys` columns after `skip` are the correlation keys) to
// `outer`: LEFT join on the keys, or a cross join when there are none.
Result<Plan> JoinOnKeys(Plan outer, Plan right, const std::vector<Expr>& outer_keys,
                        int skip) {
  std::vector<Expr> right_keys;
  for (size_t i = 0; i < outer_keys.size(); ++i) {
    right_keys.push_back(ColumnOf(right, skip + static_cast<int>(i)));
  }
  JoinType type = outer_keys.empty() ? JoinType::kInner : JoinType::kLeft;
  return plan::MakeJoin(std::move(outer), std::move(right), type, outer_keys, right_keys);
}

Result<Plan> AttachScalar(Plan outer, const BoundSubquery& sq,
                          const std::vector<Expr>& outer_keys, Expr* value) {
  ARROW_RETURN_NOT_OK(CheckColumns(sq));
  ARROW_RETURN_NOT_OK(NoExtraCondition(sq, "scalar subqueries"));
  int w = outer->schema->num_fields();
  int k = static_cast<int>(sq.key_columns.size());
  std::vector<int> cols{0};
  for (int c : sq.key_columns) cols.push_back(c);
  bool marker = !outer_keys.empty() && sq.empty_value != nullptr;
  Plan right;
  if (sq.unique_per_key) {
    ARROW_ASSIGN_OR_RAISE(right, ProjectColumns(sq.plan, cols, marker));
  } else {
    // Group by the keys; more than one row in a group is an error when evaluated.
    ARROW_ASSIGN_OR_RAISE(Plan p, ProjectColumns(sq.plan, cols, false));
    std::vector<Expr> keys;
    for (int i = 1; i <= k; ++i)
      keys.push_back(Named(ColumnOf(p, i), p->schema->field(i)->name()));
    Expr v = ColumnOf(p, 0);
    ARROW_ASSIGN_OR_RAISE(
        Plan agg, plan::MakeAggregate(p, keys,
                                      {Named(expr::Aggregate("any_value", {v}), "__v"),
                                       Named(expr::Aggregate("count_star", {}), "__n")}));
    std::vector<Expr> exprs{Named(
        expr::Call("__single_value", {ColumnOf(agg, k + 1), ColumnOf(agg, k)}), "__c0")};
    for (int i = 0; i < k; ++i)
      exprs.push_back(Named(ColumnOf(agg, i), "__k" + std::to_string(i)));
    if (marker) exprs.push_back(Named(True(), "__match"));
    ARROW_ASSIGN_OR_RAISE(right, plan::MakeProject(agg, exprs));
  }
  ARROW_ASSIGN_OR_RAISE(Plan joined, JoinOnKeys(outer, right, outer_keys, 1));
  *value = ColumnOf(joined, w);
  if (marker) {
    Expr missing = expr::Call("is_null", {ColumnOf(joined, w + 1 + k)});
    *value = expr::Call("case", {missing, sq.empty_value, *value});
  }
  return joined;
}

Result<Plan> AttachExists(Plan outer, const BoundSubquery& sq,
                          const std::vector<Expr>& outer_keys, Expr* value) {
  ARROW_RETURN_NOT_OK(NoExtraCondition(sq, "EXISTS subqueries"));
  int w = outer->schema->num_fields();
  if (outer_keys.empty()) {
    ARROW_ASSIGN_OR_RAISE(
        Plan count, plan::MakeAggregate(
                        sq.plan, {}, {Named(expr::Aggregate("count_star", {}), "__n")}));
    ARROW_ASSIGN_OR_RAISE(Plan joined, JoinOnKeys(outer, count, {}, 0));
    *value = expr::Call(
        ">", {ColumnOf(joined, w), expr::Literal(arrow::MakeScalar(int64_t{0}))});
    return joined;
  }
  ARROW_ASSIGN_OR_RAISE(Plan keys, ProjectColumns(sq.plan, sq.key_columns, false));
  ARROW_ASSIGN_OR_RAISE(keys, plan::MakeDistinct(keys));
  ARROW_ASSIGN_OR_RAISE(keys,
                        ProjectColumns(keys, Range(0, keys->schema->num_fields()), true));
  ARROW_ASSIGN_OR_RAISE(Plan joined, JoinOnKeys(outer, keys, outer_keys, 0));
  *value = expr::Call("is_not_null",
                      {ColumnOf(joined, w + static_cast<int>(outer_keys.size()))});
  return joined;
}

// x IN (subquery) with SQL's three-valued result, from two joins: the distinct
// non-NULL values (with their keys) marked as matches, and per key the row count and
// the non-NULL count.
Result<Plan> AttachIn(Plan outer, const BoundSubquery& sq,
                      const std::vector<Expr>& outer_keys, const Expr& test,
                      Expr* value) {
  ARROW_RETURN_NOT_OK(CheckColumns(sq));
  ARROW_RETURN_NOT_OK(NoExtraCondition(sq, "IN subqueries"));
  int w = outer->schema->num_fields();
  int k = static_cast<int>(outer_keys.size());
  std::vector<int> cols{0};
  for (int c : sq.key_columns) cols.push_back(c);

  ARROW_ASSIGN_OR_RAISE(Plan values,
                        ProjectColumns(plan::CopyTree(sq.plan), cols, false));
  ARROW_ASSIGN_OR_RAISE(
      values, plan::MakeFilter(values, expr::Call("is_not_null", {ColumnOf(values, 0)})));
  ARROW_ASSIGN_OR_RAISE(values, plan::MakeDistinct(values));
  ARROW_ASSIGN_OR_RAISE(values, ProjectColumns(values, Range(0, k + 1), true));
  std::vector<Expr> left_keys{test};
  for (const auto& e : outer_keys) left_keys.push_back(e);
  std::vector<Expr> right_keys;
  for (int i = 0; i <= k; ++i) right_keys.push_back(ColumnOf(values, i));
  ARROW_ASSIGN_OR_RAISE(
      Plan joined, plan::MakeJoin(outer, values, JoinType::kLeft, left_keys, right_keys));
  Expr matched = expr::Call("is_not_null", {ColumnOf(joined, w + k + 1)});

  ARROW_ASSIGN_OR_RAISE(Plan p, ProjectColumns(sq.plan, cols, false));
  std::vector<Expr> keys;
  for (int i = 1; i <= k; ++i)
    keys.push_back(Named(ColumnOf(p, i), "__k" + std::to_string(i)));
  ARROW_ASSIGN_OR_RAISE(
      Plan counts,
      plan::MakeAggregate(p, keys,
                          {Named(expr::Aggregate("count_star", {}), "__n"),
                           Named(expr::Aggregate("count", {ColumnOf(p, 0)}), "__nn")}));
  int base = joined->schema->num_fields();
  ARROW_ASSIGN_OR_RAISE(joined, JoinOnKeys(joined, counts, outer_keys, 0));
  Expr zero = expr::Literal(arrow::MakeScalar(int64_t{0}));
  Expr rows = expr::Call("coalesce", {ColumnOf(joined, base + k), zero});
  Expr non_null = ColumnOf(joined, base + k + 1);
  Expr unknown =
      expr::Call("or", {expr::Call("is_null", {test}),
                        expr::Call("<", {non_null, ColumnOf(joined, base + k)})});
  *value = expr::Call("case", {matched, True(), expr::Call("=", {rows, zero}),
                               expr::Literal(arrow::MakeScalar(false)), unknown,
                               expr::Literal(arrow::MakeNullScalar(arrow::boolean())),
                               expr::Literal(arrow::MakeScalar(false))});
  return joined;
}

}  // namespace

Expr SubqueryPlaceholder(const std::string& name, int position) {
  return expr::WithPosition(expr::Column(name), position);
}

bool IsSubqueryPlaceholder(const Expr& e) {
  return e->kind == ExprKind::kColumn && e->index < 0 &&
         e->name.rfind(kPlaceholderPrefix, 0) == 0;
}

bool ContainsSubquery(const Expr& e) {
  if (IsSubqueryPlaceholder(e)) return true;
  for (const auto& a : e->args) {
    if (ContainsSubquery(a)) return true;
  }
  return false;
}

bool UsesSubquery(const Expr& e, const std::string& name) {
  if (IsSubqueryPlaceholder(e)) return e->name == name;
  for (const auto& a : e->args) {
    if (UsesSubquery(a, name)) return true;
  }
  return false;
}

Result<Expr> ReplacePlaceholders(const Expr& e,
                                 const std::map<std::string, Expr>& values) {
  return MapColumns(e, [&](const Expr& c) -> Result<Expr> {
    if (!IsSubqueryPlaceholder(c)) return c;
    auto it = values.find(c->name);
    if (it == values.end()) {
      return ErrorAt(c->position, "internal: subquery ", c->name, " was not planned");
    }
    return it->second;
  });
}

Result<Plan> SemiJoinSubquery(Plan outer, const BoundSubquery& sq, bool anti,
                              const OuterMapper& map) {
  ARROW_ASSIGN_OR_RAISE(auto left_keys, MapAll(sq.outer_keys, map));
  std::vector<Expr> right_keys;
  for (int c : sq.key_columns) right_keys.push_back(ColumnOf(sq.plan, c));
  if (sq.what.kind == SubqueryKind::kIn) {
    ARROW_RETURN_NOT_OK(CheckColumns(sq));
    ARROW_ASSIGN_OR_RAISE(auto test, map(sq.what.test));
    left_keys.push_back(test);
    right_keys.push_back(ColumnOf(sq.plan, 0));
  }
  ARROW_ASSIGN_OR_RAISE(Expr condition, ExtraCondition(sq, outer->schema->num_fields()));
  return plan::MakeJoin(std::move(outer), sq.plan,
                        anti ? JoinType::kAnti : JoinType::kSemi, left_keys, right_keys,
                        condition);
}

Result<Plan> AttachSubquery(Plan outer, const BoundSubquery& sq, const OuterMapper& map,
                            Expr* value) {
  ARROW_ASSIGN_OR_RAISE(auto outer_keys, MapAll(sq.outer_keys, map));
  Result<Plan> r;
  switch (sq.what.kind) {
    case SubqueryKind::kScalar:
      r = AttachScalar(std::move(outer), sq, outer_keys, value);
      break;
    case SubqueryKind::kExists:
      r = AttachExists(std::move(outer), sq, outer_keys, value);
      break;
    case SubqueryKind::kIn: {
      ARROW_ASSIGN_OR_RAISE(auto test, map(sq.what.test));
      r = AttachIn(std::move(outer), sq, outer_keys, test, value);
      break;
    }
  }
  if (!r.ok()) return WithPosition(r.status(), sq.what.position);
  *value = expr::WithPosition(*value, sq.what.position);
  return r;
}

Result<Expr> ValueOverNoRows(const Expr& e) {
  std::function<Expr(const Expr&)> replace = [&](const Expr& x) -> Expr {
    if (x->kind == ExprKind::kAggregate) {
      if (x->name == "count" || x->name == "count_star") {
        return expr::Literal(arrow::MakeScalar(int64_t{0}));
      }
      return expr::Literal(arrow::MakeNullScalar(arrow::null()));
    }
    if (x->args.empty()) return x;
    auto n = std::make_shared<expr::ExprNode>(*x);
    for (auto& a : n->args) a = replace(a);
    return Expr(n);
  };
  Expr v = replace(e);
  if (!expr::IsConstant(v)) return Expr(nullptr);
  auto bound = expr::Bind(v, arrow::Schema({}));
  if (!bound.ok()) return Expr(nullptr);
  ARROW_ASSIGN_OR_RAISE(auto folded, expr::FoldConstants(*bound));
  if (folded->kind != ExprKind::kLiteral || !folded->value || !folded->value->is_valid) {
    return Expr(nullptr);
  }
  return folded;
}

}  // namespace sluice::sql::internal
