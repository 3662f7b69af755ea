#include "sluice/plan/optimizer.h"

namespace sluice::plan {

Result<Plan> Optimize(Plan root) {
  ARROW_ASSIGN_OR_RAISE(root, FoldConstants(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, FactorOr(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, ReorderJoins(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, PushDownFilters(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, PruneColumns(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, RestrictAggregatesByJoinKeys(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, PushDownSemiJoins(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, FuseTopK(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, WindowTopK(std::move(root)));
  ARROW_ASSIGN_OR_RAISE(root, ChooseBuildSide(std::move(root)));
  AssignIds(root);
  return root;
}

}  // namespace sluice::plan
