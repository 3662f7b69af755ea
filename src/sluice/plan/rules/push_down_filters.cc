// Rule: move each conjunct of a filter as close to the data as it can go.
//   - through projections (when the columns it uses are plain column references),
//   - into the input of a join it references alone (inner: either side; left/semi/
//     anti: the left side; right: the right side); an inner join's cross-side terms
//     become join keys (a = b) or join conditions; terms of a join's ON condition
//     that read one side only go into that side where they can only stop its rows
//     from matching (an outer join's other side, a semi join's both, an anti join's
//     right),
//   - below an aggregate when it references only grouping columns,
//   - through sorts and into every input of a union,
//   - below a window when it references only columns the window partitions by (it
//     then keeps or drops whole partitions, which does not change any other row's
//     result); any other term stays above the window,
//   - onto scans as pruning hints (the filter itself stays above the scan).
#include <algorithm>

#include "sluice/expr/function_registry.h"
#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

using expr::Expr;
using expr::ExprKind;

std::vector<int> ColumnsOf(const Expr& e) {
  std::vector<int> cols;
  expr::CollectColumns(e, &cols);
  return cols;
}

Plan WrapFilter(Plan node, const std::vector<Expr>& terms) {
  if (terms.empty()) return node;
  auto f = std::make_shared<FilterNode>();
  f->schema = node->schema;
  f->predicate = expr::MakeConjunction(terms);
  f->inputs = {std::move(node)};
  return f;
}

// Non-deterministic terms must stay where they are.
bool Deterministic(const Expr& e) { return expr::IsDeterministic(e); }

Result<Plan> Push(const Plan& node, std::vector<Expr> terms);

Result<Plan> RecurseWithout(const Plan& node, const std::vector<Expr>& terms) {
  Plan copy = CopyNode(*node);
  for (auto& in : copy->inputs) {
    ARROW_ASSIGN_OR_RAISE(in, Push(in, {}));
  }
  return WrapFilter(copy, terms);
}

Result<Plan> PushJoin(const Plan& node, std::vector<Expr> terms) {
  auto j = std::static_pointer_cast<JoinNode>(CopyNode(*node));
  const int nl = node->inputs[0]->schema->num_fields();
  const int nr = node->inputs[1]->schema->num_fields();
  std::vector<Expr> left, right, stay;
  const bool can_left = j->type == JoinType::kInner || j->type == JoinType::kLeft ||
                        j->type == JoinType::kSemi || j->type == JoinType::kAnti;
  const bool can_right = j->type == JoinType::kInner || j->type == JoinType::kRight;
  std::vector<int> to_right(nl + nr, -1);
  for (int i = 0; i < nr; ++i) to_right[nl + i] = i;
  std::vector<Expr> conditions;
  if (j->condition) {
    // Terms of the join's own condition that read one side only and can only reject
    // that side's rows from matching filter that side first: the non-preserved side of
    // an outer join (a left join's right input), either side of an inner join, both
    // inputs of a semi join, the right input of an anti join.
    const bool cond_left = j->type == JoinType::kInner || j->type == JoinType::kRight ||
                           j->type == JoinType::kSemi;
    const bool cond_right = j->type == JoinType::kInner || j->type == JoinType::kLeft ||
                            j->type == JoinType::kSemi || j->type == JoinType::kAnti;
    std::vector<Expr> parts, kept;
    expr::SplitConjunction(j->condition, &parts);
    for (const auto& t : parts) {
      auto cols = ColumnsOf(t);
      const bool all_left =
          std::all_of(cols.begin(), cols.end(), [&](int c) { return c < nl; });
      const bool all_right =
          std::all_of(cols.begin(), cols.end(), [&](int c) { return c >= nl; });
      if (cols.empty() || !Deterministic(t)) {
        kept.push_back(t);
      } else if (all_left && cond_left) {
        left.push_back(t);
      } else if (all_right && cond_right) {
        right.push_back(expr::RemapColumns(t, to_right));
      } else {
        kept.push_back(t);
      }
    }
    j->condition = expr::MakeConjunction(kept);
  }
  for (const auto& t : terms) {
    auto cols = ColumnsOf(t);
    bool all_left = std::all_of(cols.begin(), cols.end(), [&](int c) { return c < nl; });
    bool all_right =
        std::all_of(cols.begin(), cols.end(), [&](int c) { return c >= nl; });
    if (!Deterministic(t)) {
      stay.push_back(t);
    } else if (all_left && can_left) {
      left.push_back(t);
    } else if (all_right && can_right && !cols.empty()) {
      right.push_back(expr::RemapColumns(t, to_right));
    } else if (j->type == JoinType::kInner && !all_left && !all_right) {
      // An equality between one side and the other becomes a key pair.
      if (t->kind == ExprKind::kCall && t->name == "=" &&
          t->args[0]->type->Equals(*t->args[1]->type)) {
        auto ca = ColumnsOf(t->args[0]);
        auto cb = ColumnsOf(t->args[1]);
        auto only = [&](const std::vector<int>& c, bool left_side) {
          return !c.empty() && std::all_of(c.begin(), c.end(), [&](int x) {
            return left_side ? x < nl : x >= nl;
          });
        };
        if (only(ca, true) && only(cb, false)) {
          j->left_keys.push_back(t->args[0]);
          j->right_keys.push_back(expr::RemapColumns(t->args[1], to_right));
          continue;
        }
        if (only(cb, true) && only(ca, false)) {
          j->left_keys.push_back(t->args[1]);
          j->right_keys.push_back(expr::RemapColumns(t->args[0], to_right));
          continue;
        }
      }
      conditions.push_back(t);
    } else {
      stay.push_back(t);
    }
  }
  if (!conditions.empty()) {
    if (j->condition) conditions.insert(conditions.begin(), j->condition);
    j->condition = expr::MakeConjunction(conditions);
  }
  ARROW_ASSIGN_OR_RAISE(j->inputs[0], Push(node->inputs[0], left));
  ARROW_ASSIGN_OR_RAISE(j->inputs[1], Push(node->inputs[1], right));
  return WrapFilter(j, stay);
}

Result<Plan> Push(const Plan& node, std::vector<Expr> terms) {
  switch (node->kind) {
    case NodeKind::kFilter: {
      expr::SplitConjunction(static_cast<const FilterNode&>(*node).predicate, &terms);
      return Push(node->inputs[0], std::move(terms));
    }
    case NodeKind::kProject: {
      const auto& p = static_cast<const ProjectNode&>(*node);
      std::vector<int> mapping(p.exprs.size(), -1);
      for (size_t i = 0; i < p.exprs.size(); ++i) {
        if (p.exprs[i]->kind == ExprKind::kColumn) mapping[i] = p.exprs[i]->index;
      }
      std::vector<Expr> down, stay;
      for (const auto& t : terms) {
        auto cols = ColumnsOf(t);
        bool ok = Deterministic(t) && std::all_of(cols.begin(), cols.end(),
                                                  [&](int c) { return mapping[c] >= 0; });
        if (ok) {
          down.push_back(expr::RemapColumns(t, mapping));
        } else {
          stay.push_back(t);
        }
      }
      Plan copy = CopyNode(*node);
      ARROW_ASSIGN_OR_RAISE(copy->inputs[0], Push(node->inputs[0], down));
      return WrapFilter(copy, stay);
    }
    case NodeKind::kJoin:
      return PushJoin(node, std::move(terms));
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateNode&>(*node);
      std::vector<int> mapping(node->schema->num_fields(), -1);
      for (size_t i = 0; i < a.keys.size(); ++i) {
        if (a.keys[i]->kind == ExprKind::kColumn) mapping[i] = a.keys[i]->index;
      }
      std::vector<Expr> down, stay;
      for (const auto& t : terms) {
        auto cols = ColumnsOf(t);
        bool ok =
            !a.keys.empty() && Deterministic(t) &&
            std::all_of(cols.begin(), cols.end(), [&](int c) { return mapping[c] >= 0; });
        if (ok) {
          down.push_back(expr::RemapColumns(t, mapping));
        } else {
          stay.push_back(t);
        }
      }
      Plan copy = CopyNode(*node);
      ARROW_ASSIGN_OR_RAISE(copy->inputs[0], Push(node->inputs[0], down));
      return WrapFilter(copy, stay);
    }
    case NodeKind::kSort: {
      if (static_cast<const SortNode&>(*node).limit >= 0)
        return RecurseWithout(node, terms);
      Plan copy = CopyNode(*node);
      ARROW_ASSIGN_OR_RAISE(copy->inputs[0], Push(node->inputs[0], terms));
      return copy;
    }
    case NodeKind::kUnion: {
      Plan copy = CopyNode(*node);
      for (auto& in : copy->inputs) {
        ARROW_ASSIGN_OR_RAISE(in, Push(in, terms));
      }
      return copy;
    }
    case NodeKind::kScan: {
      auto scan = std::static_pointer_cast<ScanNode>(CopyNode(*node));
      if (scan->source->SupportsPredicatePruning()) {
        for (const auto& t : terms) {
          if (Deterministic(t)) scan->pruning_predicates.push_back(t);
        }
      }
      return WrapFilter(scan, terms);
    }
    case NodeKind::kLimit:
      return RecurseWithout(node, terms);
    case NodeKind::kTimeWindow: {
      // Terms on the input's columns only go below (window_start/end come after them).
      const int n_in = node->inputs[0]->schema->num_fields();
      std::vector<Expr> down, stay;
      for (const auto& t : terms) {
        auto cols = ColumnsOf(t);
        bool ok = Deterministic(t) &&
                  std::all_of(cols.begin(), cols.end(), [&](int c) { return c < n_in; });
        (ok ? down : stay).push_back(t);
      }
      Plan copy = CopyNode(*node);
      ARROW_ASSIGN_OR_RAISE(copy->inputs[0], Push(node->inputs[0], down));
      return WrapFilter(copy, stay);
    }
    case NodeKind::kWindow: {
      const auto& w = static_cast<const WindowNode&>(*node);
      std::vector<bool> partition_col(node->inputs[0]->schema->num_fields(), false);
      for (const auto& p : w.partition_by) {
        if (p->kind == ExprKind::kColumn) partition_col[p->index] = true;
      }
      std::vector<Expr> down, stay;
      for (const auto& t : terms) {
        auto cols = ColumnsOf(t);
        // Window outputs come after the input columns: a term on one stays above.
        bool ok = Deterministic(t) && std::all_of(cols.begin(), cols.end(), [&](int c) {
                    return c < static_cast<int>(partition_col.size()) && partition_col[c];
                  });
        if (ok) {
          down.push_back(t);
        } else {
          stay.push_back(t);
        }
      }
      Plan copy = CopyNode(*node);
      ARROW_ASSIGN_OR_RAISE(copy->inputs[0], Push(node->inputs[0], down));
      return WrapFilter(copy, stay);
    }
  }
  return RecurseWithout(node, terms);
}

}  // namespace

Result<Plan> PushDownFilters(Plan root) { return Push(root, {}); }

}  // namespace sluice::plan
