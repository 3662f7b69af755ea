#include "sluice/plan/logical_plan.h"

#include <fmt/format.h>

namespace sluice::plan {

const char* TimeWindowKindName(TimeWindowKind k) {
  switch (k) {
    case TimeWindowKind::kTumble:
      return "tumble";
    case TimeWindowKind::kHop:
      return "hop";
    case TimeWindowKind::kSession:
      return "session";
  }
  return "?";
}

const char* JoinTypeName(JoinType t) {
  switch (t) {
    case JoinType::kInner:
      return "inner";
    case JoinType::kLeft:
      return "left";
    case JoinType::kRight:
      return "right";
    case JoinType::kFull:
      return "full";
    case JoinType::kSemi:
      return "semi";
    case JoinType::kAnti:
      return "anti";
  }
  return "?";
}

static void AssignIdsFrom(const Plan& node, int* next) {
  node->id = (*next)++;
  for (const auto& in : node->inputs) AssignIdsFrom(in, next);
}

void AssignIds(const Plan& root) {
  int next = 0;
  AssignIdsFrom(root, &next);
}

static std::string JoinExprs(const std::vector<expr::Expr>& exprs) {
  std::string s;
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (i > 0) s += ", ";
    s += expr::ToString(exprs[i]);
  }
  return s;
}

static std::string DescribeSortKeys(const std::vector<SortKey>& keys) {
  std::string s;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) s += ", ";
    s += expr::ToString(keys[i].expr) + (keys[i].ascending ? " asc" : " desc") +
         (keys[i].nulls_first ? " nulls first" : " nulls last");
  }
  return s;
}

static std::string DescribeBound(const FrameBound& b) {
  switch (b.kind) {
    case FrameBoundKind::kUnboundedPreceding:
      return "UNBOUNDED PRECEDING";
    case FrameBoundKind::kPreceding:
      return (b.offset ? b.offset->ToString() : "?") + " PRECEDING";
    case FrameBoundKind::kCurrentRow:
      return "CURRENT ROW";
    case FrameBoundKind::kFollowing:
      return (b.offset ? b.offset->ToString() : "?") + " FOLLOWING";
    case FrameBoundKind::kUnboundedFollowing:
      return "UNBOUNDED FOLLOWING";
  }
  return "?";
}

std::string DescribeFrame(const WindowFrame& frame) {
  if (frame.is_default) return "";
  return fmt::format("{} BETWEEN {} AND {}",
                     frame.unit == FrameUnit::kRows ? "ROWS" : "RANGE",
                     DescribeBound(frame.start), DescribeBound(frame.end));
}

std::string DescribeNode(const PlanNode& node) {
  switch (node.kind) {
    case NodeKind::kScan: {
      const auto& n = static_cast<const ScanNode&>(node);
      std::string cols;
      for (int i = 0; i < node.schema->num_fields(); ++i) {
        if (i > 0) cols += ", ";
        cols += node.schema->field(i)->name();
      }
      std::string s = fmt::format("Scan {} [{}]", n.source->Describe(), cols);
      if (!n.pruning_predicates.empty()) {
        s += " prune(" + JoinExprs(n.pruning_predicates) + ")";
      }
      return s;
    }
    case NodeKind::kFilter:
      return "Filter " + expr::ToString(static_cast<const FilterNode&>(node).predicate);
    case NodeKind::kProject: {
      const auto& n = static_cast<const ProjectNode&>(node);
      std::string s = "Project ";
      for (size_t i = 0; i < n.exprs.size(); ++i) {
        if (i > 0) s += ", ";
        std::string e = expr::ToString(n.exprs[i]);
        const std::string& name = node.schema->field(static_cast<int>(i))->name();
        s += e == name ? e : e + " AS " + name;
      }
      return s;
    }
    case NodeKind::kAggregate: {
      const auto& n = static_cast<const AggregateNode&>(node);
      return fmt::format("Aggregate keys=[{}] aggs=[{}]", JoinExprs(n.keys),
                         JoinExprs(n.aggregates));
    }
    case NodeKind::kJoin: {
      const auto& n = static_cast<const JoinNode&>(node);
      std::string s = fmt::format("Join {} on [{}] = [{}]", JoinTypeName(n.type),
                                  JoinExprs(n.left_keys), JoinExprs(n.right_keys));
      if (n.condition) s += " and " + expr::ToString(n.condition);
      s += n.build_left ? " build=left" : " build=right";
      return s;
    }
    case NodeKind::kSort: {
      const auto& n = static_cast<const SortNode&>(node);
      std::string s = n.limit >= 0 ? fmt::format("TopK {} by ", n.limit) : "Sort by ";
      return s + DescribeSortKeys(n.keys);
    }
    case NodeKind::kLimit: {
      const auto& n = static_cast<const LimitNode&>(node);
      return fmt::format("Limit {} offset {}", n.limit, n.offset);
    }
    case NodeKind::kUnion:
      return static_cast<const UnionNode&>(node).all ? "UnionAll" : "Union";
    case NodeKind::kWindow: {
      const auto& n = static_cast<const WindowNode&>(node);
      std::string fns;
      for (size_t i = 0; i < n.functions.size(); ++i) {
        const auto& f = n.functions[i];
        if (i > 0) fns += ", ";
        fns += f.name + "(" + JoinExprs(f.args) + ")";
        std::string frame = DescribeFrame(f.frame);
        if (!frame.empty()) fns += " " + frame;
        fns += " AS " + f.output_name;
      }
      std::string top =
          n.top_per_partition > 0 ? fmt::format(" top={}", n.top_per_partition) : "";
      return fmt::format("Window partition=[{}] order=[{}]{} fns=[{}]",
                         JoinExprs(n.partition_by), DescribeSortKeys(n.order_by), top,
                         fns);
    }
    case NodeKind::kTimeWindow: {
      const auto& n = static_cast<const TimeWindowNode&>(node);
      std::string time = node.inputs[0]->schema->field(n.time_column)->name();
      if (n.lateness_us > 0) time += fmt::format(", lateness={}us", n.lateness_us);
      switch (n.window) {
        case TimeWindowKind::kTumble:
          return fmt::format("TimeWindow tumble({}, size={}us)", time, n.size_us);
        case TimeWindowKind::kHop:
          return fmt::format("TimeWindow hop({}, slide={}us, size={}us)", time,
                             n.slide_us, n.size_us);
        case TimeWindowKind::kSession:
          return fmt::format("TimeWindow session({}, gap={}us)", time, n.gap_us);
      }
      return "TimeWindow";
    }
  }
  return "?";
}

static bool SameExprs(const std::vector<expr::Expr>& a,
                      const std::vector<expr::Expr>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!expr::Equals(a[i], b[i])) return false;
  }
  return true;
}

bool SameResult(const Plan& a, const Plan& b) {
  if (a == b) return true;
  if (!a || !b || a->kind != b->kind || a->inputs.size() != b->inputs.size() ||
      !a->schema->Equals(*b->schema, /*check_metadata=*/false)) {
    return false;
  }
  switch (a->kind) {
    case NodeKind::kScan: {
      const auto& x = static_cast<const ScanNode&>(*a);
      const auto& y = static_cast<const ScanNode&>(*b);
      if (x.source != y.source || x.projection != y.projection ||
          !SameExprs(x.pruning_predicates, y.pruning_predicates)) {
        return false;
      }
      break;
    }
    case NodeKind::kFilter:
      if (!expr::Equals(static_cast<const FilterNode&>(*a).predicate,
                        static_cast<const FilterNode&>(*b).predicate)) {
        return false;
      }
      break;
    case NodeKind::kProject:
      if (!SameExprs(static_cast<const ProjectNode&>(*a).exprs,
                     static_cast<const ProjectNode&>(*b).exprs)) {
        return false;
      }
      break;
    case NodeKind::kAggregate: {
      const auto& x = static_cast<const AggregateNode&>(*a);
      const auto& y = static_cast<const AggregateNode&>(*b);
      if (!SameExprs(x.keys, y.keys) || !SameExprs(x.aggregates, y.aggregates))
        return false;
      break;
    }
    case NodeKind::kJoin: {
      const auto& x = static_cast<const JoinNode&>(*a);
      const auto& y = static_cast<const JoinNode&>(*b);
      if (x.type != y.type || x.build_left != y.build_left ||
          !SameExprs(x.left_keys, y.left_keys) ||
          !SameExprs(x.right_keys, y.right_keys) ||
          (x.condition == nullptr) != (y.condition == nullptr) ||
          (x.condition && !expr::Equals(x.condition, y.condition))) {
        return false;
      }
      break;
    }
    default:
      return false;
  }
  for (size_t i = 0; i < a->inputs.size(); ++i) {
    if (!SameResult(a->inputs[i], b->inputs[i])) return false;
  }
  return true;
}

static void ExplainInto(const Plan& node, int depth, std::string* out) {
  out->append(std::string(depth * 2, ' '));
  out->append(DescribeNode(*node));
  out->push_back('\n');
  for (const auto& in : node->inputs) ExplainInto(in, depth + 1, out);
}

std::string ExplainPlan(const Plan& root) {
  std::string out;
  ExplainInto(root, 0, &out);
  return out;
}

}  // namespace sluice::plan
