#pragma once
// Window functions in SQL: `f(args) OVER ([PARTITION BY ...] [ORDER BY ...] [frame])`.
//
// Like subqueries, a window call is replaced by a placeholder column ("__window_N")
// while the select list and ORDER BY are converted; the binder computes the windows
// after WHERE, GROUP BY and HAVING (over the aggregate's output when grouped: window
// arguments may contain aggregates, `rank() OVER (ORDER BY sum(x))`), one WindowNode
// (plan/logical_plan.h) per distinct (PARTITION BY, ORDER BY), and the placeholders
// become the columns those nodes add. Named windows (WINDOW w AS ...), EXCLUDE and
// GROUPS frames are not supported.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/expr/expr.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::sql::internal {

/// A window function call found by the converter.
struct PendingWindow {
  plan::WindowFunction function;  // args over the clause's scope; output_name = text
  std::vector<expr::Expr> partition_by;
  std::vector<plan::SortKey> order_by;
  std::string name;  // the placeholder column's name
  int position = -1;
};

struct WindowCollector {
  std::vector<PendingWindow> items;
  int* counter = nullptr;
};

expr::Expr WindowPlaceholder(const std::string& name, int position);
bool IsWindowPlaceholder(const expr::Expr& e);

/// Every expression of the pending windows (arguments, keys), for aggregate splitting.
std::vector<expr::Expr> WindowExprs(const std::vector<PendingWindow>& windows);

/// Adds the windows over `plan` (their expressions first mapped with `map`: identity,
/// or the aggregate split's rewrite) and records each placeholder's column in `values`.
Result<plan::Plan> PlanWindows(
    plan::Plan plan, const std::vector<PendingWindow>& windows,
    const std::function<Result<expr::Expr>(const expr::Expr&)>& map,
    std::map<std::string, expr::Expr>* values);

}  // namespace sluice::sql::internal
