// Rule: pull the terms every branch of an OR shares out of it:
//   (a AND b) OR (a AND c)  ->  a AND (b OR c)
// so that a join key written in each branch (TPC-H Q19: p_partkey = l_partkey) becomes
// a join key instead of leaving a cross join with one big condition. Valid in SQL's
// three-valued logic (AND and OR distribute over each other there too). Applied to
// filter predicates and join conditions.
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

}  // namespace

Result<Plan> FactorOr(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    if (node->kind == NodeKind::kFilter) {
      auto& f = static_cast<FilterNode&>(*node);
      f.predicate = Factor(f.predicate);
    } else if (node->kind == NodeKind::kJoin) {
      auto& j = static_cast<JoinNode&>(*node);
      if (j.condition) j.condition = Factor(j.condition);
    }
    return node;
  });
}

}  // namespace sluice::plan
