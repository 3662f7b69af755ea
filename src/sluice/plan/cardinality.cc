#include "sluice/plan/cardinality.h"

#include <algorithm>

namespace sluice::plan {

namespace {

int PlainColumn(expr::Expr e);

// 1 / the distinct values of the column `e` reads in `input`, if known.
std::optional<double> OneValueShare(const expr::Expr& e, const Plan* input) {
  if (input == nullptr) return std::nullopt;
  const int c = PlainColumn(e);
  if (c < 0) return std::nullopt;
  auto d = EstimateKeyStats(*input, c).distinct;
  if (!d || *d < 1) return std::nullopt;
  return 1.0 / *d;
}

bool IsLiteral(const expr::Expr& e) { return e->kind == expr::ExprKind::kLiteral; }

// The share of `input`'s rows (null: unknown input) that `e` keeps.
double Selectivity(const expr::Expr& e, const Plan* input) {
  if (e->kind != expr::ExprKind::kCall) return 0.5;
  const std::string& fn = e->name;
  if (fn == "and") return Selectivity(e->args[0], input) * Selectivity(e->args[1], input);
  if (fn == "=") {
    // A column equal to a constant: one of its distinct values (p_size = 15 is one of
    // 50), when the source knows how many.
    if (e->args.size() == 2 && (IsLiteral(e->args[0]) || IsLiteral(e->args[1]))) {
      auto share = OneValueShare(IsLiteral(e->args[0]) ? e->args[1] : e->args[0], input);
      if (share) return *share;
    }
    return 0.1;
  }
  if (fn == "<" || fn == "<=" || fn == ">" || fn == ">=") return 1.0 / 3;
  if (fn == "between") return 0.25;
  if (fn == "in") {
    const double k = static_cast<double>(e->args.size() - 1);
    auto share = OneValueShare(e->args[0], input);
    if (share) return std::min(1.0, k * *share);
    return std::min(0.5, 0.1 * k);
  }
  if (fn == "like" && e->args.size() == 2 &&
      e->args[1]->kind == expr::ExprKind::kLiteral && e->args[1]->value &&
      e->args[1]->value->is_valid) {
    // A fixed prefix ('forest%') selects like an equality; a pattern that starts with a
    // wildcard keeps the default.
    const std::string pattern = e->args[1]->value->ToString();
    if (!pattern.empty() && pattern[0] != '%' && pattern[0] != '_') return 0.1;
  }
  return 0.5;
}

// The column an expression reads, looking through aliases and casts; -1 otherwise.
int PlainColumn(expr::Expr e) {
  while ((e->kind == expr::ExprKind::kAlias) ||
         (e->kind == expr::ExprKind::kCall && e->name == "cast")) {
    e = e->args[0];
  }
  return e->kind == expr::ExprKind::kColumn ? e->index : -1;
}

KeyStats StatsOfExpr(const Plan& input, const expr::Expr& e) {
  int c = PlainColumn(e);
  if (c < 0) return {};
  return EstimateKeyStats(input, c);
}

std::optional<double> DistinctOfExpr(const Plan& input, const expr::Expr& e) {
  return StatsOfExpr(input, e).distinct;
}

double EstimateJoin(const JoinNode& j, double left, double right) {
  // The most selective key pair: the largest divisor.
  double denominator = 0;
  double right_ndv = 0;  // distinct keys of the right side in that pair
  double left_ndv = 0;   // and of the left side (0: unknown)
  for (size_t i = 0; i < j.left_keys.size(); ++i) {
    KeyStats l = StatsOfExpr(j.inputs[0], j.left_keys[i]);
    KeyStats r = StatsOfExpr(j.inputs[1], j.right_keys[i]);
    double d = JoinKeyDivisor(l, r);
    if (d > denominator) {
      denominator = d;
      right_ndv = r.distinct.value_or(d);
      left_ndv = l.distinct.value_or(0);
    }
  }
  if (denominator < 1) {
    double larger = std::max(left, right);
    if (j.type == JoinType::kSemi || j.type == JoinType::kAnti) return left;
    return larger;
  }
  // The share of the right side's key values present after its filters.
  double right_share = std::min(1.0, right / std::max(1.0, right_ndv));
  if ((j.type == JoinType::kSemi || j.type == JoinType::kAnti) && left_ndv > right_ndv) {
    // The right side draws its keys from a smaller domain than the left's (an IN list
    // of a few keys): at most its distinct keys of the left's can match.
    right_share = std::min(right_share, std::min(right, right_ndv) / left_ndv);
  }
  switch (j.type) {
    case JoinType::kSemi:
      return std::max(1.0, left * right_share);
    case JoinType::kAnti:
      return std::max(1.0, left * std::max(0.1, 1 - right_share));
    default:
      break;
  }
  double inner = std::max(1.0, left * right / denominator);
  switch (j.type) {
    case JoinType::kLeft:
      return std::max(inner, left);
    case JoinType::kRight:
      return std::max(inner, right);
    case JoinType::kFull:
      return std::max(inner, std::max(left, right));
    default:
      return inner;
  }
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
      return EstimateRows(node->inputs[0]) *
             EstimateSelectivity(f.predicate, node->inputs[0]);
    }
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateNode&>(*node);
      if (a.keys.empty()) return 1;
      double in = EstimateRows(node->inputs[0]);
      double groups = 1;
      for (const auto& k : a.keys) {
        auto d = DistinctOfExpr(node->inputs[0], k);
        if (!d) return std::max(1.0, in * 0.1);
        groups *= *d;
      }
      return std::max(1.0, std::min(in, groups));
    }
    case NodeKind::kJoin:
      return EstimateJoin(static_cast<const JoinNode&>(*node),
                          EstimateRows(node->inputs[0]), EstimateRows(node->inputs[1]));
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
    case NodeKind::kTimeWindow: {
      // A hop's rows each fall in size / slide windows.
      const auto& w = static_cast<const TimeWindowNode&>(*node);
      double copies = w.window == TimeWindowKind::kHop && w.slide_us > 0
                          ? static_cast<double>(w.size_us) / w.slide_us
                          : 1.0;
      return EstimateRows(node->inputs[0]) * copies;
    }
  }
  return 1e6;
}

KeyStats EstimateKeyStats(const Plan& node, int column) {
  switch (node->kind) {
    case NodeKind::kScan: {
      const auto& scan = static_cast<const ScanNode&>(*node);
      int c = scan.projection.empty() ? column : scan.projection[column];
      KeyStats out;
      if (auto d = scan.source->EstimatedDistinct(c))
        out.distinct = static_cast<double>(*d);
      if (auto r = scan.source->EstimatedRows()) out.table_rows = static_cast<double>(*r);
      return out;
    }
    case NodeKind::kFilter:
    case NodeKind::kSort:
    case NodeKind::kLimit:
      return EstimateKeyStats(node->inputs[0], column);
    case NodeKind::kProject:
      return StatsOfExpr(node->inputs[0],
                         static_cast<const ProjectNode&>(*node).exprs[column]);
    case NodeKind::kJoin: {
      const auto& j = static_cast<const JoinNode&>(*node);
      int nl = node->inputs[0]->schema->num_fields();
      if (column < nl) return EstimateKeyStats(node->inputs[0], column);
      if (j.type == JoinType::kSemi || j.type == JoinType::kAnti) return {};
      return EstimateKeyStats(node->inputs[1], column - nl);
    }
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateNode&>(*node);
      if (column >= static_cast<int>(a.keys.size())) return {};
      // A single group key is unique in the output: the output is its "table".
      if (a.keys.size() == 1) return KeyStats{EstimateRows(node), EstimateRows(node)};
      return KeyStats{StatsOfExpr(node->inputs[0], a.keys[column]).distinct,
                      std::nullopt};
    }
    default:
      return {};
  }
}

double EstimateSelectivity(const expr::Expr& predicate, const Plan& input) {
  return std::max(0.01, Selectivity(predicate, &input));
}

std::optional<double> EstimateDistinct(const Plan& node, int column) {
  return EstimateKeyStats(node, column).distinct;
}

double JoinKeyDivisor(const KeyStats& a, const KeyStats& b) {
  if (a.unique() && b.unique()) return std::min(*a.distinct, *b.distinct);
  if (a.unique()) return *a.distinct;
  if (b.unique()) return *b.distinct;
  return std::max(a.distinct.value_or(0), b.distinct.value_or(0));
}

}  // namespace sluice::plan
