#include "sluice/sql/window_internal.h"

#include "sluice/plan/plan_builder.h"
#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

using expr::Expr;
using plan::Plan;

namespace {

constexpr const char* kPrefix = "__window_";

bool SameKeys(const PendingWindow& a, const PendingWindow& b) {
  if (a.partition_by.size() != b.partition_by.size() ||
      a.order_by.size() != b.order_by.size()) {
    return false;
  }
  for (size_t i = 0; i < a.partition_by.size(); ++i) {
    if (!expr::Equals(a.partition_by[i], b.partition_by[i])) return false;
  }
  for (size_t i = 0; i < a.order_by.size(); ++i) {
    const auto& x = a.order_by[i];
    const auto& y = b.order_by[i];
    if (!expr::Equals(x.expr, y.expr) || x.ascending != y.ascending ||
        x.nulls_first != y.nulls_first) {
      return false;
    }
  }
  return true;
}

}  // namespace

Expr WindowPlaceholder(const std::string& name, int position) {
  return expr::WithPosition(expr::Column(name), position);
}

bool IsWindowPlaceholder(const Expr& e) {
  return e->kind == expr::ExprKind::kColumn && e->index < 0 &&
         e->name.rfind(kPrefix, 0) == 0;
}

std::vector<Expr> WindowExprs(const std::vector<PendingWindow>& windows) {
  std::vector<Expr> out;
  for (const auto& w : windows) {
    for (const auto& a : w.function.args) out.push_back(a);
    for (const auto& p : w.partition_by) out.push_back(p);
    for (const auto& o : w.order_by) out.push_back(o.expr);
  }
  return out;
}

Result<Plan> PlanWindows(Plan plan, const std::vector<PendingWindow>& windows,
                         const std::function<Result<Expr>(const Expr&)>& map,
                         std::map<std::string, Expr>* values) {
  std::vector<bool> done(windows.size(), false);
  for (size_t i = 0; i < windows.size(); ++i) {
    if (done[i]) continue;
    // All windows with the same keys go into one node, in the order written.
    std::vector<size_t> group;
    for (size_t k = i; k < windows.size(); ++k) {
      if (!done[k] && SameKeys(windows[i], windows[k])) {
        group.push_back(k);
        done[k] = true;
      }
    }
    const PendingWindow& first = windows[i];
    std::vector<Expr> partition;
    for (const auto& p : first.partition_by) {
      ARROW_ASSIGN_OR_RAISE(auto e, map(p));
      partition.push_back(e);
    }
    std::vector<plan::SortKey> order;
    for (const auto& o : first.order_by) {
      ARROW_ASSIGN_OR_RAISE(auto e, map(o.expr));
      order.push_back({e, o.ascending, o.nulls_first});
    }
    std::vector<plan::WindowFunction> functions;
    for (size_t k : group) {
      plan::WindowFunction f = windows[k].function;
      for (auto& a : f.args) {
        ARROW_ASSIGN_OR_RAISE(a, map(a));
      }
      functions.push_back(std::move(f));
    }
    int base = plan->schema->num_fields();
    auto made = plan::MakeWindow(plan, partition, order, functions);
    if (!made.ok()) return WithPosition(made.status(), first.position);
    plan = *made;
    for (size_t j = 0; j < group.size(); ++j) {
      int index = base + static_cast<int>(j);
      const auto& field = plan->schema->field(index);
      (*values)[windows[group[j]].name] =
          expr::BoundColumn(index, field->name(), field->type());
    }
  }
  return plan;
}

}  // namespace sluice::sql::internal
