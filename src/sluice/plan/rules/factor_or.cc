// Rule: pull the terms every branch of an OR shares out of it:
//   (a AND b) OR (a AND c)  ->  a AND (b OR c)
// so that a join key written in each branch (TPC-H Q19: p_partkey = l_partkey) becomes
// a join key instead of leaving a cross join with one big condition. Valid in SQL's
// three-valued logic (AND and OR distribute over each other there too). Applied to
// filter predicates and join conditions.
//
// Then, in a filter over inner joins, an OR whose every branch constrains one input
// (a "leaf" of the join tree) implies the OR of those constraints, a filter on that
// input alone, which is added (the OR stays):
//   (n1.name = 'FRANCE' AND n2.name = 'GERMANY') OR (n1.name = 'GERMANY' AND ...)
//   adds  n1.name = 'FRANCE' OR n1.name = 'GERMANY'  (and the same for n2),
// which push_down_filters then moves to that input (TPC-H Q7, Q19). A row the OR keeps
// has a true branch, whose terms on the leaf are then all true: the added filter keeps
// it too.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

using expr::Expr;
using expr::ExprKind;

bool IsCall(const Expr& e, const char* name) {
  return e->kind == ExprKind::kCall && e->name == name && e->args.size() == 2;
}

void SplitDisjunction(const Expr& e, std::vector<Expr>* out) {
  if (IsCall(e, "or")) {
    SplitDisjunction(e->args[0], out);
    SplitDisjunction(e->args[1], out);
    return;
  }
  out->push_back(e);
}

Expr Or(const std::vector<Expr>& terms) {
  Expr result = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    auto n = std::make_shared<expr::ExprNode>();
    n->kind = ExprKind::kCall;
    n->name = "or";
    n->args = {result, terms[i]};
    n->type = arrow::boolean();
    n->position = terms[i]->position;
    result = n;
  }
  return result;
}

bool Contains(const std::vector<Expr>& list, const Expr& e) {
  return std::any_of(list.begin(), list.end(),
                     [&](const Expr& x) { return expr::Equals(x, e); });
}

Expr Factor(const Expr& e) {
  if (e->kind != ExprKind::kCall) return e;
  if (IsCall(e, "and")) {
    std::vector<Expr> terms;
    expr::SplitConjunction(e, &terms);
    for (auto& t : terms) t = Factor(t);
    return expr::MakeConjunction(terms);
  }
  if (!IsCall(e, "or")) return e;
  std::vector<Expr> branches;
  SplitDisjunction(e, &branches);
  std::vector<std::vector<Expr>> terms(branches.size());
  for (size_t i = 0; i < branches.size(); ++i) {
    expr::SplitConjunction(Factor(branches[i]), &terms[i]);
  }
  std::vector<Expr> common;
  for (const auto& t : terms[0]) {
    bool everywhere =
        std::all_of(terms.begin() + 1, terms.end(),
                    [&](const std::vector<Expr>& b) { return Contains(b, t); });
    if (everywhere && !Contains(common, t)) common.push_back(t);
  }
  if (common.empty()) {
    std::vector<Expr> factored;
    for (const auto& b : terms) factored.push_back(expr::MakeConjunction(b));
    return Or(factored);
  }
  std::vector<Expr> rest;
  bool always = false;  // some branch is exactly the common terms: the OR adds nothing
  for (const auto& b : terms) {
    std::vector<Expr> left;
    for (const auto& t : b) {
      if (!Contains(common, t)) left.push_back(t);
    }
    if (left.empty()) always = true;
    rest.push_back(expr::MakeConjunction(left));
  }
  if (!always) common.push_back(Or(rest));
  return expr::MakeConjunction(common);
}

// leaf[c]: which input of the tree of inner joins under a filter column c comes from.
void LeavesOfColumns(const Plan& node, int* next_leaf, std::vector<int>* leaf) {
  if (node->kind == NodeKind::kJoin &&
      static_cast<const JoinNode&>(*node).type == JoinType::kInner) {
    LeavesOfColumns(node->inputs[0], next_leaf, leaf);
    LeavesOfColumns(node->inputs[1], next_leaf, leaf);
    return;
  }
  leaf->insert(leaf->end(), node->schema->num_fields(), (*next_leaf)++);
}

// The one leaf all of e's columns come from, or -1.
int SingleLeaf(const Expr& e, const std::vector<int>& leaf) {
  std::vector<int> cols;
  expr::CollectColumns(e, &cols);
  int found = -1;
  for (int c : cols) {
    if (c < 0 || c >= static_cast<int>(leaf.size())) return -1;
    if (found >= 0 && leaf[c] != found) return -1;
    found = leaf[c];
  }
  return found;
}

// The filters on single leaves that the OR term `e` implies (see the file comment).
std::vector<Expr> ImpliedByOr(const Expr& e, const std::vector<int>& leaf, int leaves) {
  std::vector<Expr> branches;
  SplitDisjunction(e, &branches);
  if (branches.size() < 2) return {};
  // per_leaf[l][i]: branch i's terms on leaf l alone.
  std::vector<std::vector<std::vector<Expr>>> per_leaf(
      leaves, std::vector<std::vector<Expr>>(branches.size()));
  bool several_leaves = false;
  int first_leaf = -2;
  for (size_t i = 0; i < branches.size(); ++i) {
    std::vector<Expr> terms;
    expr::SplitConjunction(branches[i], &terms);
    for (const auto& t : terms) {
      int l = SingleLeaf(t, leaf);
      if (first_leaf == -2) first_leaf = l;
      if (l != first_leaf) several_leaves = true;
      if (l >= 0) per_leaf[l][i].push_back(t);
    }
  }
  if (!several_leaves) return {};  // the OR is on one leaf already: it moves as it is
  std::vector<Expr> implied;
  for (int l = 0; l < leaves; ++l) {
    bool every_branch =
        std::all_of(per_leaf[l].begin(), per_leaf[l].end(),
                    [](const std::vector<Expr>& t) { return !t.empty(); });
    if (!every_branch) continue;
    std::vector<Expr> ors;
    for (const auto& t : per_leaf[l]) ors.push_back(expr::MakeConjunction(t));
    implied.push_back(Factor(Or(ors)));
  }
  return implied;
}

Expr AddImpliedFilters(const Expr& predicate, const Plan& input) {
  std::vector<int> leaf;
  int leaves = 0;
  LeavesOfColumns(input, &leaves, &leaf);
  if (leaves < 2) return predicate;
  std::vector<Expr> terms;
  expr::SplitConjunction(predicate, &terms);
  std::vector<Expr> added;
  for (const auto& t : terms) {
    if (!IsCall(t, "or")) continue;
    for (auto& i : ImpliedByOr(t, leaf, leaves)) {
      if (!Contains(terms, i) && !Contains(added, i)) added.push_back(std::move(i));
    }
  }
  if (added.empty()) return predicate;
  terms.insert(terms.end(), added.begin(), added.end());
  return expr::MakeConjunction(terms);
}

}  // namespace

Result<Plan> FactorOr(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    if (node->kind == NodeKind::kFilter) {
      auto& f = static_cast<FilterNode&>(*node);
      f.predicate = AddImpliedFilters(Factor(f.predicate), node->inputs[0]);
    } else if (node->kind == NodeKind::kJoin) {
      auto& j = static_cast<JoinNode&>(*node);
      if (j.condition) j.condition = Factor(j.condition);
    }
    return node;
  });
}

}  // namespace sluice::plan
