// Rule: evaluate constant subexpressions once at planning time, and remove filters
// whose condition folded to TRUE.
#include "sluice/expr/binder.h"
#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

Result<Plan> FoldConstants(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    ARROW_RETURN_NOT_OK(RewriteExprs(
        node.get(), [](const expr::Expr& e) { return expr::FoldConstants(e); }));
    if (node->kind == NodeKind::kFilter) {
      const auto& p = static_cast<FilterNode&>(*node).predicate;
      if (p->kind == expr::ExprKind::kLiteral && p->value && p->value->is_valid &&
          static_cast<const arrow::BooleanScalar&>(*p->value).value) {
        return node->inputs[0];
      }
    }
    return node;
  });
}

}  // namespace sluice::plan
