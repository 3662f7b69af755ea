#pragma once
// The logical optimizer: a fixed sequence of rewrite rules, one file each under rules/.
//   1. fold_constants      evaluate constant subexpressions once; drop always-true
//   filters
//   2. push_down_filters   move filter terms below projections, joins, aggregates and
//                          windows (on their partition keys), and hand them to scans
//                          for row-group pruning
//   3. prune_columns       keep only the columns each node needs; scans read only those
//   4. top_k               Sort followed by Limit -> a top-k sort
//   5. choose_build_side   build the hash table on the smaller (estimated) join input
// Rules preserve the plan's output schema.
#include "sluice/base/status.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::plan {

Result<Plan> Optimize(Plan root);

// The rules, for tests and EXPLAIN.
Result<Plan> FoldConstants(Plan root);
Result<Plan> PushDownFilters(Plan root);
Result<Plan> PruneColumns(Plan root);
Result<Plan> FuseTopK(Plan root);
Result<Plan> ChooseBuildSide(Plan root);

/// Estimated output rows of a plan (for build side choice and progress).
double EstimateRows(const Plan& node);

}  // namespace sluice::plan
