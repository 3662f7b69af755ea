#pragma once
// Helpers shared by the optimizer rules.
#include <functional>
#include <memory>

#include "sluice/base/status.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::plan {

/// A shallow copy of a node (same kind and fields; inputs shared).
Plan CopyNode(const PlanNode& node);
/// A copy of every node of the tree (expressions, immutable, are shared): a plan used
/// twice must not share nodes the optimizer mutates.
Plan CopyTree(const Plan& root);

/// Rewrites every expression held by `node` (not its inputs) with `fn`.
Status RewriteExprs(PlanNode* node,
                    const std::function<Result<expr::Expr>(const expr::Expr&)>& fn);

/// Applies `fn` bottom-up to every node, replacing it with the result.
Result<Plan> TransformUp(const Plan& node, const std::function<Result<Plan>(Plan)>& fn);

}  // namespace sluice::plan
