// Rule: Limit directly above Sort (possibly with projections between) makes the sort a
// top-k: only offset + limit rows are kept.
#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

Result<Plan> FuseTopK(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    if (node->kind != NodeKind::kLimit) return node;
    auto& limit = static_cast<LimitNode&>(*node);
    if (limit.limit < 0) return node;
    // Walk through projections to a sort.
    Plan* slot = &node->inputs[0];
    while ((*slot)->kind == NodeKind::kProject) {
      *slot = CopyNode(**slot);
      slot = &(*slot)->inputs[0];
    }
    if ((*slot)->kind != NodeKind::kSort) return node;
    auto sort = std::static_pointer_cast<SortNode>(CopyNode(**slot));
    int64_t k = limit.limit + limit.offset;
    if (sort->limit < 0 || k < sort->limit) sort->limit = k;
    *slot = sort;
    return node;
  });
}

}  // namespace sluice::plan
