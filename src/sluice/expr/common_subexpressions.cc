#include "sluice/expr/common_subexpressions.h"

#include <fmt/format.h>

#include <functional>

namespace sluice::expr {

namespace {

int Size(const Expr& e) {
  int n = 1;
  for (const auto& a : e->args) n += Size(a);
  return n;
}

void CollectCalls(const Expr& e, std::vector<Expr>* out) {
  if (e->kind == ExprKind::kCall) out->push_back(e);
  for (const auto& a : e->args) CollectCalls(a, out);
}

Expr Replace(const Expr& e, const Expr& target, const Expr& with) {
  if (Equals(e, target)) return with;
  if (e->args.empty()) return e;
  bool changed = false;
  std::vector<Expr> args;
  for (const auto& a : e->args) {
    args.push_back(Replace(a, target, with));
    changed = changed || args.back() != a;
  }
  if (!changed) return e;
  auto n = std::make_shared<ExprNode>(*e);
  n->args = std::move(args);
  return n;
}

}  // namespace

std::vector<Expr> ExtractCommonSubexpressions(std::vector<Expr>* exprs, int width) {
  std::vector<Expr> shared;
  while (true) {
    std::vector<Expr> calls;
    for (const auto& e : *exprs) CollectCalls(e, &calls);
    for (const auto& e : shared) CollectCalls(e, &calls);
    // The largest call that occurs at least twice.
    Expr best;
    int best_size = 0;
    for (size_t i = 0; i < calls.size(); ++i) {
      int size = Size(calls[i]);
      if (size <= best_size || !calls[i]->bound()) continue;
      for (size_t j = i + 1; j < calls.size(); ++j) {
        if (Equals(calls[i], calls[j])) {
          best = calls[i];
          best_size = size;
          break;
        }
      }
    }
    if (!best) break;
    Expr column = BoundColumn(width + static_cast<int>(shared.size()),
                              fmt::format("__cse{}", shared.size()), best->type);
    for (auto& e : *exprs) e = Replace(e, best, column);
    for (auto& e : shared) e = Replace(e, best, column);
    shared.push_back(best);
  }
  // Evaluation order: each shared expression after the ones it reads (a later, smaller
  // one may sit inside an earlier one, or the other way round).
  const int n = static_cast<int>(shared.size());
  if (n == 0) return shared;
  std::vector<int> order, state(n, 0);  // 0 new, 1 visiting, 2 done
  std::function<void(int)> visit = [&](int i) {
    if (state[i] != 0) return;
    state[i] = 1;
    std::vector<int> cols;
    CollectColumns(shared[i], &cols);
    for (int c : cols) {
      if (c >= width) visit(c - width);
    }
    state[i] = 2;
    order.push_back(i);
  };
  for (int i = 0; i < n; ++i) visit(i);
  std::vector<int> mapping(width + n);
  for (int c = 0; c < width; ++c) mapping[c] = c;
  for (int k = 0; k < n; ++k) mapping[width + order[k]] = width + k;
  std::vector<Expr> ordered;
  for (int k = 0; k < n; ++k) ordered.push_back(RemapColumns(shared[order[k]], mapping));
  for (auto& e : *exprs) e = RemapColumns(e, mapping);
  return ordered;
}

}  // namespace sluice::expr
