// Rule: build the join's hash table on the input with fewer estimated rows.
// Semi/anti joins build their left side only when it is clearly the smaller one.
// Estimates: scans report their size; filters keep half; aggregates a tenth (at
// least 1); joins the larger input; limits their limit.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

double EstimateRows(const Plan& node) {
  switch (node->kind) {
    case NodeKind::kScan: {
      const auto& s = static_cast<const ScanNode&>(*node);
      auto rows = s.source->EstimatedRows();
      double r = rows ? static_cast<double>(*rows) : 1e6;
      return s.pruning_predicates.empty() ? r : r * 0.5;
    }
    case NodeKind::kFilter:
      return EstimateRows(node->inputs[0]) * 0.5;
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateNode&>(*node);
      if (a.keys.empty()) return 1;
      return std::max(1.0, EstimateRows(node->inputs[0]) * 0.1);
    }
    case NodeKind::kJoin:
      return std::max(EstimateRows(node->inputs[0]), EstimateRows(node->inputs[1]));
    case NodeKind::kLimit: {
      const auto& l = static_cast<const LimitNode&>(*node);
      double in = EstimateRows(node->inputs[0]);
      return l.limit < 0 ? in : std::min(in, static_cast<double>(l.limit));
    }
    case NodeKind::kSort: {
      const auto& s = static_cast<const SortNode&>(*node);
      double in = EstimateRows(node->inputs[0]);
      return s.limit < 0 ? in : std::min(in, static_cast<double>(s.limit));
    }
    case NodeKind::kUnion: {
      double total = 0;
      for (const auto& in : node->inputs) total += EstimateRows(in);
      return total;
    }
    case NodeKind::kProject:
    case NodeKind::kWindow:
      return EstimateRows(node->inputs[0]);
  }
  return 1e6;
}

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
