#pragma once
// The logical optimizer: a fixed sequence of rewrite rules, one file each under rules/.
//   1. fold_constants      evaluate constant subexpressions once; drop always-true
//   filters
//   2. factor_or           (a AND b) OR (a AND c) -> a AND (b OR c): shared join keys
//                          become join keys; an OR over several join inputs adds the
//                          filter it implies on each input
//   3. reorder_joins       inner join clusters: largest input first, then the
//                          smallest input an equality connects (no cross products)
//   4. push_down_filters   move filter terms below projections, joins, aggregates and
//                          windows (on their partition keys), and hand them to scans
//                          for row-group pruning
//   5. prune_columns       keep only the columns each node needs; scans read only those
//   6. restrict_aggregates  an aggregate joined with a side of few keys first drops
//                          the rows of groups that side cannot meet (a semi join)
//   7. push_down_semi_joins  a semi/anti join reading one input of the inner join
//                          below it moves below that join (unless the join shrinks it)
//   8. top_k               Sort followed by Limit -> a top-k sort
//   9. window_top_k        a filter row_number() <= k over a window of row_number()s
//                          only: each partition needs its first k rows only
//  10. choose_build_side   build the hash table on the smaller (estimated) join input
// Rules preserve the plan's output schema.
#include "sluice/base/status.h"
#include "sluice/plan/cardinality.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::plan {

Result<Plan> Optimize(Plan root);

// The rules, for tests and EXPLAIN.
Result<Plan> FoldConstants(Plan root);
Result<Plan> FactorOr(Plan root);
Result<Plan> ReorderJoins(Plan root);
Result<Plan> PushDownFilters(Plan root);
Result<Plan> PruneColumns(Plan root);
Result<Plan> RestrictAggregatesByJoinKeys(Plan root);
Result<Plan> PushDownSemiJoins(Plan root);
Result<Plan> FuseTopK(Plan root);
Result<Plan> WindowTopK(Plan root);
Result<Plan> ChooseBuildSide(Plan root);

}  // namespace sluice::plan
