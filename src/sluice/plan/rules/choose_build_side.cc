// Rule: build the join's hash table on the input with fewer estimated rows
// (cardinality.h). Semi/anti joins build their left side only when it is clearly the
// smaller one. A scan's pruning predicates count for nothing: the filter above the scan
// still holds them.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

Result<Plan> ChooseBuildSide(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    if (node->kind != NodeKind::kJoin) return node;
    auto& j = static_cast<JoinNode&>(*node);
    // Semi and anti joins too: building the left (preserved) side means the right side
    // only marks the rows it matches (hash_join.h). Only when clearly smaller, since
    // that form emits its rows at the end instead of streaming them.
    const double left = EstimateRows(node->inputs[0]);
    const double right = EstimateRows(node->inputs[1]);
    if (j.type == JoinType::kSemi || j.type == JoinType::kAnti) {
      j.build_left = left * 4 < right;
      return node;
    }
    j.build_left = left < right;
    return node;
  });
}

}  // namespace sluice::plan
