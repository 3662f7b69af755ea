#include "sluice/plan/plan_rewrite.h"

namespace sluice::plan {

Plan CopyNode(const PlanNode& node) {
  switch (node.kind) {
    case NodeKind::kScan:
      return std::make_shared<ScanNode>(static_cast<const ScanNode&>(node));
    case NodeKind::kFilter:
      return std::make_shared<FilterNode>(static_cast<const FilterNode&>(node));
    case NodeKind::kProject:
      return std::make_shared<ProjectNode>(static_cast<const ProjectNode&>(node));
    case NodeKind::kAggregate:
      return std::make_shared<AggregateNode>(static_cast<const AggregateNode&>(node));
    case NodeKind::kJoin:
      return std::make_shared<JoinNode>(static_cast<const JoinNode&>(node));
    case NodeKind::kSort:
      return std::make_shared<SortNode>(static_cast<const SortNode&>(node));
    case NodeKind::kLimit:
      return std::make_shared<LimitNode>(static_cast<const LimitNode&>(node));
    case NodeKind::kUnion:
      return std::make_shared<UnionNode>(static_cast<const UnionNode&>(node));
    case NodeKind::kWindow:
      return std::make_shared<WindowNode>(static_cast<const WindowNode&>(node));
    case NodeKind::kTimeWindow:
      return std::make_shared<TimeWindowNode>(static_cast<const TimeWindowNode&>(node));
  }
  return nullptr;
}

Status RewriteExprs(PlanNode* node,
                    const std::function<Result<expr::Expr>(const expr::Expr&)>& fn) {
  auto each = [&](std::vector<expr::Expr>& v) -> Status {
    for (auto& e : v) {
      ARROW_ASSIGN_OR_RAISE(e, fn(e));
    }
    return Status::OK();
  };
  switch (node->kind) {
    case NodeKind::kScan:
      return each(static_cast<ScanNode*>(node)->pruning_predicates);
    case NodeKind::kFilter: {
      auto* n = static_cast<FilterNode*>(node);
      ARROW_ASSIGN_OR_RAISE(n->predicate, fn(n->predicate));
      return Status::OK();
    }
    case NodeKind::kProject:
      return each(static_cast<ProjectNode*>(node)->exprs);
    case NodeKind::kAggregate: {
      auto* n = static_cast<AggregateNode*>(node);
      ARROW_RETURN_NOT_OK(each(n->keys));
      // Aggregate nodes themselves are not rewritten, only their arguments.
      for (auto& a : n->aggregates) {
        auto copy = std::make_shared<expr::ExprNode>(*a);
        for (auto& arg : copy->args) {
          ARROW_ASSIGN_OR_RAISE(arg, fn(arg));
        }
        a = copy;
      }
      return Status::OK();
    }
    case NodeKind::kJoin: {
      auto* n = static_cast<JoinNode*>(node);
      ARROW_RETURN_NOT_OK(each(n->left_keys));
      ARROW_RETURN_NOT_OK(each(n->right_keys));
      if (n->condition) {
        ARROW_ASSIGN_OR_RAISE(n->condition, fn(n->condition));
      }
      return Status::OK();
    }
    case NodeKind::kSort:
      for (auto& k : static_cast<SortNode*>(node)->keys) {
        ARROW_ASSIGN_OR_RAISE(k.expr, fn(k.expr));
      }
      return Status::OK();
    case NodeKind::kWindow: {
      auto* n = static_cast<WindowNode*>(node);
      ARROW_RETURN_NOT_OK(each(n->partition_by));
      for (auto& k : n->order_by) {
        ARROW_ASSIGN_OR_RAISE(k.expr, fn(k.expr));
      }
      for (auto& f : n->functions) ARROW_RETURN_NOT_OK(each(f.args));
      return Status::OK();
    }
    default:
      return Status::OK();
  }
}

Result<Plan> TransformUp(const Plan& node, const std::function<Result<Plan>(Plan)>& fn) {
  Plan copy = CopyNode(*node);
  for (auto& in : copy->inputs) {
    ARROW_ASSIGN_OR_RAISE(in, TransformUp(in, fn));
  }
  return fn(copy);
}

Plan CopyTree(const Plan& root) {
  Plan copy = CopyNode(*root);
  for (auto& in : copy->inputs) in = CopyTree(in);
  return copy;
}

}  // namespace sluice::plan
