#include "sluice/sql/aggregate_split_internal.h"

#include <algorithm>

#include "sluice/plan/plan_builder.h"
#include "sluice/sql/sql_error_internal.h"
#include "sluice/sql/subquery_internal.h"
#include "sluice/sql/window_internal.h"

namespace sluice::sql::internal {

using expr::Expr;
using expr::ExprKind;

namespace {

bool Contains(const std::vector<Expr>& list, const Expr& e) {
  return std::any_of(list.begin(), list.end(),
                     [&](const Expr& x) { return expr::Equals(x, e); });
}

Expr OutputColumn(int index, const std::string& name, int position) {
  auto c = std::make_shared<expr::ExprNode>(*expr::Column(name));
  c->index = index;
  c->position = position;
  return c;
}

Expr Named(const Expr& e, const std::string& name) {
  return expr::WithPosition(expr::Alias(e, name), e->position);
}

}  // namespace

std::string ColumnName(const Expr& e) {
  // expr::ToString prints count(*) as "count_star(*)"; DuckDB names it "count_star()".
  std::string name = expr::OutputName(e);
  const std::string from = "count_star(*)";
  for (size_t at = name.find(from); at != std::string::npos; at = name.find(from, at)) {
    name.replace(at, from.size(), "count_star()");
  }
  return name;
}

void AggregateSplit::AddKey(const Expr& key) {
  if (!Contains(keys_, key)) keys_.push_back(key);
}

void AggregateSplit::CollectAggregates(const Expr& e) {
  if (e->kind == ExprKind::kAggregate) {
    if (!Contains(aggregates_, e)) aggregates_.push_back(e);
    return;
  }
  for (const auto& a : e->args) CollectAggregates(a);
}

Result<plan::Plan> AggregateSplit::MakePlan(plan::Plan input, int position) const {
  std::vector<Expr> keys;
  for (const auto& k : keys_) keys.push_back(Named(k, ColumnName(k)));
  std::vector<Expr> aggs;
  for (const auto& a : aggregates_) aggs.push_back(Named(a, ColumnName(a)));
  auto r = plan::MakeAggregate(input, keys, aggs);
  if (r.ok()) return r;
  // Blame the key or aggregate that fails by itself: binding errors point inside it,
  // result-type errors ("sum() needs a numeric argument") at the call.
  for (const auto& k : keys) {
    auto one = plan::MakeAggregate(input, {k}, {});
    if (!one.ok())
      return RelocateBindError(one.status(), {k}, *input->schema, false, k->position);
  }
  for (const auto& a : aggs) {
    auto one = plan::MakeAggregate(input, {}, {a});
    if (!one.ok()) {
      return RelocateBindError(one.status(), {a}, *input->schema, true, a->position);
    }
  }
  return WithPosition(r.status(), position);
}

Result<Expr> AggregateSplit::Rewrite(const Expr& e) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (expr::Equals(e, keys_[i])) {
      return OutputColumn(static_cast<int>(i), ColumnName(keys_[i]), e->position);
    }
  }
  switch (e->kind) {
    case ExprKind::kAggregate:
      for (size_t i = 0; i < aggregates_.size(); ++i) {
        if (expr::Equals(e, aggregates_[i])) {
          return OutputColumn(static_cast<int>(keys_.size() + i), ColumnName(e),
                              e->position);
        }
      }
      return ErrorAt(e->position, "internal: aggregate ", expr::ToString(e),
                     " was not collected");
    case ExprKind::kColumn: {
      // Planned over the aggregate's output.
      if (IsSubqueryPlaceholder(e) || IsWindowPlaceholder(e)) return e;
      std::string name = e->qualifier.empty() ? e->name : e->qualifier + "." + e->name;
      return ErrorAt(
          e->position, "column '", name,
          "' must appear in the GROUP BY clause or be used in an aggregate function");
    }
    case ExprKind::kStar:
      return ErrorAt(e->position, "'*' is not allowed here");
    case ExprKind::kLiteral:
      return e;
    case ExprKind::kCall:
    case ExprKind::kAlias: {
      auto n = std::make_shared<expr::ExprNode>(*e);
      for (auto& a : n->args) {
        ARROW_ASSIGN_OR_RAISE(a, Rewrite(a));
      }
      return Expr(n);
    }
  }
  return e;
}

}  // namespace sluice::sql::internal
