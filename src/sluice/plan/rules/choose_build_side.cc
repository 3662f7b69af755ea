// Rule: build the join's hash table on the input with fewer estimated rows.
// Semi/anti joins build their left side only when it is clearly the smaller one.
// Estimates: scans report their size; a filter keeps the product of its conjuncts'
// selectivities (textbook guesses: = 0.1, a range bound 1/3, BETWEEN 1/4, IN 0.1 per
// value up to 1/2, anything else 1/2; at least 1/100 in all); aggregates a tenth (at
// least 1); joins the larger input; limits their limit. A scan's pruning predicates
// count for nothing: the filter above the scan still holds them.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

double Selectivity(const expr::Expr& e) {
  if (e->kind != expr::ExprKind::kCall) return 0.5;
  const std::string& fn = e->name;
  if (fn == "and") return Selectivity(e->args[0]) * Selectivity(e->args[1]);
  if (fn == "=") return 0.1;
  if (fn == "<" || fn == "<=" || fn == ">" || fn == ">=") return 1.0 / 3;
  if (fn == "between") return 0.25;
  if (fn == "in") return std::min(0.5, 0.1 * static_cast<double>(e->args.size() - 1));
  return 0.5;
}

}  // namespace

double EstimateRows(const Plan& node) {
  switch (node->kind) {
    case NodeKind::kScan: {
      const auto& s = static_cast<const ScanNode&>(*node);
      auto rows = s.source->EstimatedRows();
      return rows ? static_cast<double>(*rows) : 1e6;
    }
    case NodeKind::kFilter: {
      const auto& f = static_cast<const FilterNode&>(*node);
      return EstimateRows(node->inputs[0]) * std::max(0.01, Selectivity(f.predicate));
    }
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
