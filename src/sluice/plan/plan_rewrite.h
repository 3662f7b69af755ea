#pragma once
// Helpers shared by the optimizer rules.
#include <functional>
#include <memory>

#include "sluice/base/status.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::plan {

/// A shallow copy of a node (same kind and fields; inputs shared).
Plan CopyNode(const PlanNode& node);

/// Rewrites every expression held by `node` (not its inputs) with `fn`.
Status RewriteExprs(PlanNode* node,
                    const std::function<Result<expr::Expr>(const expr::Expr&)>& fn);

/// Applies `fn` bottom-up to every node, replacing it with the result.
Result<Plan> TransformUp(const Plan& node, const std::function<Result<Plan>(Plan)>& fn);

}  // namespace sluice::plan
