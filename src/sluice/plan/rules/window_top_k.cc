// Rule: a filter that keeps row_number() <= k (or < k, or = k) over a window whose
// functions are all row_number() needs only the first k rows of each partition, so the
// window may cut its input to those rows first (WindowNode::top_per_partition). That
// holds for one ORDER BY key of a type the per-partition top-k orders (integers but
// uint64, dates, times, timestamps, durations, floats; exec/operators/partition_top_k.h)
// and k up to kMaxTop; ties keep arrival order, as the window does. The filter stays.
#include <algorithm>

#include "sluice/plan/optimizer.h"
#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

namespace {

constexpr int64_t kMaxTop = 1024;

bool OrderableType(const arrow::DataType& t) {
  return (arrow::is_integer(t.id()) && t.id() != arrow::Type::UINT64) ||
         arrow::is_temporal(t.id()) || t.id() == arrow::Type::DURATION ||
         arrow::is_floating(t.id());
}

// The integer value of a literal, if it is one.
std::optional<int64_t> IntegerLiteral(const expr::Expr& e) {
  if (e->kind != expr::ExprKind::kLiteral || !e->value || !e->value->is_valid) {
    return std::nullopt;
  }
  auto v = e->value->CastTo(arrow::int64());
  if (!v.ok() || !arrow::is_integer(e->value->type->id())) return std::nullopt;
  return static_cast<const arrow::Int64Scalar&>(**v).value;
}

// The k that a conjunct `rn <= k` (and its variants) implies for a row_number column,
// if it is such a conjunct.
std::optional<int64_t> TopOf(const expr::Expr& term, const std::vector<bool>& is_rn) {
  if (term->kind != expr::ExprKind::kCall || term->args.size() != 2) return std::nullopt;
  std::string op = term->name;
  expr::Expr col = term->args[0], lit = term->args[1];
  if (col->kind != expr::ExprKind::kColumn) {
    std::swap(col, lit);
    // Mirror the comparison: 2 >= rn is rn <= 2.
    if (op == ">=")
      op = "<=";
    else if (op == ">")
      op = "<";
    else if (op == "<=")
      op = ">=";
    else if (op == "<")
      op = ">";
  }
  if (col->kind != expr::ExprKind::kColumn || col->index < 0 ||
      col->index >= static_cast<int>(is_rn.size()) || !is_rn[col->index]) {
    return std::nullopt;
  }
  auto v = IntegerLiteral(lit);
  if (!v) return std::nullopt;
  if (op == "<=" || op == "=") return *v;
  if (op == "<") return *v - 1;
  return std::nullopt;
}

}  // namespace

Result<Plan> WindowTopK(Plan root) {
  return TransformUp(root, [](Plan node) -> Result<Plan> {
    if (node->kind != NodeKind::kFilter || node->inputs[0]->kind != NodeKind::kWindow) {
      return node;
    }
    const auto& w = static_cast<const WindowNode&>(*node->inputs[0]);
    if (w.order_by.size() != 1 || !OrderableType(*w.order_by[0].expr->type)) return node;
    if (w.functions.empty()) return node;
    for (const auto& f : w.functions) {
      if (f.name != "row_number") return node;
    }
    const int width = w.inputs[0]->schema->num_fields();
    std::vector<bool> is_rn(w.schema->num_fields(), false);
    for (size_t i = 0; i < w.functions.size(); ++i) is_rn[width + i] = true;
    std::vector<expr::Expr> terms;
    expr::SplitConjunction(static_cast<const FilterNode&>(*node).predicate, &terms);
    int64_t top = -1;
    for (const auto& t : terms) {
      auto k = TopOf(t, is_rn);
      if (k && (top < 0 || *k < top)) top = *k;
    }
    if (top < 1 || top > kMaxTop) return node;
    auto window = std::static_pointer_cast<WindowNode>(CopyNode(*node->inputs[0]));
    window->top_per_partition = top;
    node->inputs[0] = window;
    return node;
  });
}

}  // namespace sluice::plan
