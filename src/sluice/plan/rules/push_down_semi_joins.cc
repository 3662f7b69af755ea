// Rule: a semi or anti join whose keys and condition read only one input of the inner
// join below it (through projections of plain columns) moves below that inner join:
//   (A JOIN B) SEMI JOIN R   ->   (A SEMI JOIN R) JOIN B     when it reads only A's
// columns. Both keep the rows of A JOIN B whose A part has (or, anti, has not) a match
// in R. It moves unless, by the estimates (cardinality.h), the inner join shrinks A by
// more than the semi join would: filtering A first then saves probing every row the
// join produces (TPC-H Q18 keeps 57 of 1.5 M orders before joining them with 6 M line
// items; Q2 keeps a few hundred parts' supply rows before joining suppliers), while an
// inner join that discards most of A (Q21's supplier nation filter) before a semi join
// that keeps most rows is better probed after. Repeated down the tree while it holds.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

bool IsSemiOrAnti(const Plan& p) {
  if (p->kind != NodeKind::kJoin) return false;
  auto t = static_cast<const JoinNode&>(*p).type;
  return t == JoinType::kSemi || t == JoinType::kAnti;
}

// The left-input columns a semi/anti join reads (keys, and its condition's left part).
std::vector<int> LeftColumns(const JoinNode& j) {
  const int nl = j.inputs[0]->schema->num_fields();
  std::vector<int> cols, out;
  for (const auto& k : j.left_keys) expr::CollectColumns(k, &cols);
  if (j.condition) expr::CollectColumns(j.condition, &cols);
  for (int c : cols) {
    if (c < nl) out.push_back(c);
  }
  return out;
}

// A copy of semi join `j` over `new_left`, where left column c becomes left_map[c] and
// the right side's columns follow new_left's.
Plan Rebind(const JoinNode& j, const Plan& new_left, const std::vector<int>& left_map) {
  auto n = std::static_pointer_cast<JoinNode>(CopyNode(j));
  const int nl = j.inputs[0]->schema->num_fields();
  const int nr = j.inputs[1]->schema->num_fields();
  const int new_nl = new_left->schema->num_fields();
  std::vector<int> key_map(nl, -1);
  std::vector<int> cond_map(nl + nr, -1);
  for (int c = 0; c < nl; ++c) key_map[c] = cond_map[c] = left_map[c];
  for (int c = 0; c < nr; ++c) cond_map[nl + c] = new_nl + c;
  for (auto& k : n->left_keys) k = expr::RemapColumns(k, key_map);
  if (n->condition) n->condition = expr::RemapColumns(n->condition, cond_map);
  n->inputs = {new_left, j.inputs[1]};
  n->schema = new_left->schema;
  return n;
}

Plan Push(const Plan& node) {
  const auto& j = static_cast<const JoinNode&>(*node);
  const Plan& left = j.inputs[0];
  const std::vector<int> used = LeftColumns(j);
  const int nl = left->schema->num_fields();
  if (left->kind == NodeKind::kProject) {
    // Through a projection whose used outputs are plain columns of its input.
    const auto& p = static_cast<const ProjectNode&>(*left);
    std::vector<int> map(nl, -1);
    for (int c : used) {
      const expr::Expr e = expr::StripAliases(p.exprs[c]);
      if (e->kind != expr::ExprKind::kColumn) return node;
      map[c] = e->index;
    }
    const Plan& below = left->inputs[0];
    if (!(below->kind == NodeKind::kJoin &&
          static_cast<const JoinNode&>(*below).type == JoinType::kInner)) {
      return node;
    }
    Plan moved = Push(Rebind(j, below, map));
    if (moved->kind == NodeKind::kJoin && IsSemiOrAnti(moved)) return node;  // stuck
    Plan project = CopyNode(*left);
    project->inputs = {moved};
    return project;
  }
  if (!(left->kind == NodeKind::kJoin &&
        static_cast<const JoinNode&>(*left).type == JoinType::kInner)) {
    return node;
  }
  const int na = left->inputs[0]->schema->num_fields();
  const bool in_a = std::all_of(used.begin(), used.end(), [&](int c) { return c < na; });
  const bool in_b = std::all_of(used.begin(), used.end(), [&](int c) { return c >= na; });
  if (used.empty() || (!in_a && !in_b)) return node;
  const int side = in_a ? 0 : 1;
  const Plan& target = left->inputs[side];
  // Below the inner join the semi join probes every row of `target` instead of the
  // join's; the join then meets only the rows it keeps. Worth it unless the inner join
  // shrinks `target` by more than the semi join does.
  const double target_rows = EstimateRows(target);
  const double joined_rows = EstimateRows(left);
  const double kept = EstimateRows(node) / std::max(1.0, EstimateRows(left));
  if (target_rows > joined_rows && kept * target_rows >= joined_rows) return node;
  std::vector<int> map(nl, -1);
  for (int c = 0; c < nl; ++c) map[c] = in_a ? c : c - na;
  Plan moved = Push(Rebind(j, target, map));
  Plan inner = CopyNode(*left);
  inner->inputs[side] = moved;
  return inner;
}

}  // namespace

Result<Plan> PushDownSemiJoins(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    if (!IsSemiOrAnti(node)) return node;
    return Push(node);
  });
}

}  // namespace sluice::plan
