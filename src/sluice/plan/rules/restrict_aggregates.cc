// Rule: an aggregate on a side of a join whose other side has few keys computes only
// the groups that side can meet (sideways information passing):
//   X JOIN Agg(Y by K) ON x = k   ->   X JOIN Agg((Y SEMI JOIN X') by K) ON x = k
// where k is a group key of the aggregate (reached through projections of plain columns
// and filters) and X' is the smallest subtree of X that holds every key x: X itself, or
// the input of one of its inner joins, filters or projections, or the left side of one
// of its semi/anti joins. Every key value X has is in X', so every group the join can
// match keeps all of its rows. Valid when the join discards the aggregate's unmatched
// groups: inner joins (either side), left joins (the aggregate on the right), right
// joins (on the left), semi and anti joins (on the right). It applies when X' is
// estimated to have under a quarter of the aggregate's groups (cardinality.h). X' is
// computed a second time, so it must give the same rows again (no LIMIT, window or
// random()): TPC-H Q17 and Q2 then aggregate a few hundred parts' rows
// instead of every part's, and Q20 the (part, supplier) pairs of its forest parts.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

// A subtree of X and the join keys as expressions over it.
struct KeySource {
  Plan plan;
  std::vector<expr::Expr> keys;
};

// `keys` over `node` rewritten onto an input of `node` that holds all the columns they
// read, if there is one.
std::optional<KeySource> Below(const Plan& node, const std::vector<expr::Expr>& keys) {
  std::vector<int> used;
  for (const auto& k : keys) expr::CollectColumns(k, &used);
  switch (node->kind) {
    case NodeKind::kFilter:
      return KeySource{node->inputs[0], keys};
    case NodeKind::kProject: {
      const auto& p = static_cast<const ProjectNode&>(*node);
      std::vector<int> map(node->schema->num_fields(), -1);
      for (int c : used) {
        const expr::Expr e = expr::StripAliases(p.exprs[c]);
        if (e->kind != expr::ExprKind::kColumn) return std::nullopt;
        map[c] = e->index;
      }
      KeySource out{node->inputs[0], {}};
      for (const auto& k : keys) out.keys.push_back(expr::RemapColumns(k, map));
      return out;
    }
    case NodeKind::kJoin: {
      const auto& j = static_cast<const JoinNode&>(*node);
      const int nl = node->inputs[0]->schema->num_fields();
      const bool left =
          std::all_of(used.begin(), used.end(), [&](int c) { return c < nl; });
      if (j.type == JoinType::kSemi || j.type == JoinType::kAnti) {
        return KeySource{node->inputs[0], keys};
      }
      if (j.type != JoinType::kInner) return std::nullopt;
      if (left) return KeySource{node->inputs[0], keys};
      if (!std::all_of(used.begin(), used.end(), [&](int c) { return c >= nl; })) {
        return std::nullopt;
      }
      std::vector<int> map(node->schema->num_fields(), -1);
      for (int c : used) map[c] = c - nl;
      KeySource out{node->inputs[1], {}};
      for (const auto& k : keys) out.keys.push_back(expr::RemapColumns(k, map));
      return out;
    }
    default:
      return std::nullopt;
  }
}

// Whether computing `node` twice gives the same rows: only scans, filters,
// projections, joins, aggregates and unions of deterministic expressions (a LIMIT
// without a total order, or random(), may pick other rows the second time).
bool Repeatable(const Plan& node) {
  auto all = [](const std::vector<expr::Expr>& es) {
    return std::all_of(es.begin(), es.end(), expr::IsDeterministic);
  };
  switch (node->kind) {
    case NodeKind::kScan:
      break;
    case NodeKind::kFilter:
      if (!expr::IsDeterministic(static_cast<const FilterNode&>(*node).predicate)) {
        return false;
      }
      break;
    case NodeKind::kProject:
      if (!all(static_cast<const ProjectNode&>(*node).exprs)) return false;
      break;
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateNode&>(*node);
      if (!all(a.keys) || !all(a.aggregates)) return false;
      break;
    }
    case NodeKind::kJoin: {
      const auto& j = static_cast<const JoinNode&>(*node);
      if (!all(j.left_keys) || !all(j.right_keys) ||
          (j.condition && !expr::IsDeterministic(j.condition))) {
        return false;
      }
      break;
    }
    case NodeKind::kUnion:
      break;
    default:
      return false;
  }
  return std::all_of(node->inputs.begin(), node->inputs.end(), Repeatable);
}

// The smallest (estimated) subtree of `x` holding the values of `keys` that computes
// the same rows when run again, if any.
std::optional<KeySource> SmallestKeySource(const Plan& x,
                                           const std::vector<expr::Expr>& keys) {
  std::optional<KeySource> best;
  double best_rows = 0;
  std::optional<KeySource> at = KeySource{x, keys};
  for (; at; at = Below(at->plan, at->keys)) {
    if (!Repeatable(at->plan) ||
        !std::all_of(at->keys.begin(), at->keys.end(), expr::IsDeterministic)) {
      continue;
    }
    const double rows = EstimateRows(at->plan);
    if (!best || rows < best_rows) {
      best = at;
      best_rows = rows;
    }
  }
  return best;
}

// The aggregate under `node` through projections of plain columns and filters, with
// the group key each of `columns` (of node's output) is, or -1.
struct AggregateBelow {
  Plan aggregate;
  std::vector<int> group_key;  // per column
};

std::optional<AggregateBelow> FindAggregate(const Plan& node, std::vector<int> columns) {
  Plan at = node;
  while (true) {
    if (at->kind == NodeKind::kAggregate) {
      const auto& a = static_cast<const AggregateNode&>(*at);
      AggregateBelow out{at, {}};
      for (int c : columns) {
        out.group_key.push_back(c >= 0 && c < static_cast<int>(a.keys.size()) ? c : -1);
      }
      return out;
    }
    if (at->kind == NodeKind::kProject) {
      const auto& p = static_cast<const ProjectNode&>(*at);
      for (int& c : columns) {
        if (c < 0) continue;
        const expr::Expr e = expr::StripAliases(p.exprs[c]);
        c = e->kind == expr::ExprKind::kColumn ? e->index : -1;
      }
    } else if (at->kind != NodeKind::kFilter) {
      return std::nullopt;
    }
    at = at->inputs[0];
  }
}

// `node` (a chain of projections and filters ending in `old_aggregate`) with the
// aggregate replaced.
Plan ReplaceBelow(const Plan& node, const Plan& old_aggregate, const Plan& replacement) {
  if (node == old_aggregate) return replacement;
  Plan copy = CopyNode(*node);
  copy->inputs = {ReplaceBelow(node->inputs[0], old_aggregate, replacement)};
  return copy;
}

// Side `side` of join `j` restricted, or null if the rule does not apply there.
Result<Plan> RestrictSide(const JoinNode& j, int side) {
  const auto& a_keys = side == 0 ? j.left_keys : j.right_keys;
  const auto& x_keys = side == 0 ? j.right_keys : j.left_keys;
  std::vector<int> columns;
  for (const auto& k : a_keys) {
    const expr::Expr e = expr::StripAliases(k);
    columns.push_back(e->kind == expr::ExprKind::kColumn ? e->index : -1);
  }
  auto found = FindAggregate(j.inputs[side], columns);
  if (!found) return Plan{};
  const auto& agg = static_cast<const AggregateNode&>(*found->aggregate);
  std::vector<expr::Expr> group_exprs, outer_exprs;
  for (size_t i = 0; i < a_keys.size(); ++i) {
    if (found->group_key[i] < 0) continue;
    group_exprs.push_back(agg.keys[found->group_key[i]]);
    outer_exprs.push_back(x_keys[i]);
  }
  if (group_exprs.empty()) return Plan{};
  std::optional<KeySource> source = SmallestKeySource(j.inputs[1 - side], outer_exprs);
  if (!source || EstimateRows(source->plan) * 4 >= EstimateRows(found->aggregate)) {
    return Plan{};
  }
  const KeySource& keys = *source;
  std::vector<expr::Expr> key_columns, key_refs;
  for (size_t i = 0; i < keys.keys.size(); ++i) {
    key_columns.push_back(expr::Alias(keys.keys[i], "__restrict" + std::to_string(i)));
    key_refs.push_back(expr::BoundColumn(
        static_cast<int>(i), "__restrict" + std::to_string(i), keys.keys[i]->type));
  }
  ARROW_ASSIGN_OR_RAISE(auto values, MakeProject(keys.plan, key_columns));
  ARROW_ASSIGN_OR_RAISE(auto semi, MakeJoin(found->aggregate->inputs[0], values,
                                            JoinType::kSemi, group_exprs, key_refs));
  Plan restricted = CopyNode(*found->aggregate);
  restricted->inputs = {semi};
  return ReplaceBelow(j.inputs[side], found->aggregate, restricted);
}

Result<Plan> Restrict(Plan node) {
  if (node->kind != NodeKind::kJoin) return node;
  const auto& j = static_cast<const JoinNode&>(*node);
  if (j.left_keys.empty()) return node;
  // The sides whose unmatched rows the join drops.
  bool sides[2] = {false, false};
  switch (j.type) {
    case JoinType::kInner:
      sides[0] = sides[1] = true;
      break;
    case JoinType::kLeft:
    case JoinType::kSemi:
    case JoinType::kAnti:
      sides[1] = true;
      break;
    case JoinType::kRight:
      sides[0] = true;
      break;
    default:
      return node;
  }
  for (int side = 0; side < 2; ++side) {
    if (!sides[side]) continue;
    ARROW_ASSIGN_OR_RAISE(auto restricted, RestrictSide(j, side));
    if (!restricted) continue;
    Plan copy = CopyNode(j);
    copy->inputs[side] = restricted;
    return copy;
  }
  return node;
}

}  // namespace

Result<Plan> RestrictAggregatesByJoinKeys(Plan root) {
  return TransformUp(root, Restrict);
}

}  // namespace sluice::plan
