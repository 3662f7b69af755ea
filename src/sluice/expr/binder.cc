#include "sluice/expr/binder.h"

#include <arrow/array/util.h>
#include <arrow/record_batch.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "sluice/expr/eval.h"
#include "sluice/expr/function_registry.h"

namespace sluice::expr {

static std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<int> FindColumn(const arrow::Schema& schema, const std::string& name) {
  std::vector<int> exact;
  std::vector<int> folded;
  std::string lname = Lower(name);
  for (int i = 0; i < schema.num_fields(); ++i) {
    if (schema.field(i)->name() == name) exact.push_back(i);
    if (Lower(schema.field(i)->name()) == lname) folded.push_back(i);
  }
  const auto& hits = exact.empty() ? folded : exact;
  if (hits.size() > 1) {
    return Status::Invalid("column name '", name, "' is ambiguous (", hits.size(),
                           " columns have it): qualify it or rename one");
  }
  return hits.empty() ? -1 : hits[0];
}

static std::string Candidates(const arrow::Schema& schema) {
  std::string s;
  for (int i = 0; i < schema.num_fields() && i < 20; ++i) {
    if (i > 0) s += ", ";
    s += schema.field(i)->name();
  }
  if (schema.num_fields() > 20) s += ", ...";
  return s;
}

static Status PositionError(const Status& st, int position) {
  if (position < 0 || st.message().find("[at ") != std::string::npos) return st;
  return st.WithMessage(st.message(), fmt::format(" [at {}]", position));
}

namespace {

struct BindState {
  const arrow::Schema& schema;
  bool allow_aggregates;
  std::shared_ptr<arrow::RecordBatch> empty;
};

}  // namespace

static Result<Expr> BindNode(const Expr& e, BindState& st, bool inside_aggregate);

static Result<Expr> BindCall(const Expr& e, BindState& st, bool inside_aggregate) {
  auto node = std::make_shared<ExprNode>(*e);
  for (auto& a : node->args) {
    ARROW_ASSIGN_OR_RAISE(a, BindNode(a, st, inside_aggregate));
  }
  if (e->kind == ExprKind::kAggregate) {
    // Aggregate result types are decided by the aggregate operator (exec layer);
    // the binder only binds the arguments.
    node->type = arrow::null();
    return Expr(node);
  }
  const FunctionDef* def = FindFunction(node->name);
  if (def == nullptr) {
    if (IsAggregateFunction(node->name)) {
      return Status::Invalid("aggregate function ", node->name, "() is not allowed here");
    }
    return Status::Invalid("unknown function '", node->name, "'");
  }
  int n = static_cast<int>(node->args.size());
  if (n < def->min_args || (def->max_args >= 0 && n > def->max_args)) {
    std::string expected = def->max_args < 0 ? fmt::format("at least {}", def->min_args)
                           : def->min_args == def->max_args
                               ? fmt::format("{}", def->min_args)
                               : fmt::format("{} to {}", def->min_args, def->max_args);
    return Status::Invalid(node->name, "() takes ", expected, " arguments, got ", n);
  }
  Expr bound = node;
  if (def->bind) {
    ARROW_ASSIGN_OR_RAISE(bound, def->bind(node));
  }
  if (!bound->type) {
    // Result type: evaluate on zero rows of the input.
    ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(bound, *st.empty));
    auto typed = std::make_shared<ExprNode>(*bound);
    typed->type = d.type();
    bound = typed;
  }
  return bound;
}

static Result<Expr> BindNode(const Expr& e, BindState& st, bool inside_aggregate) {
  switch (e->kind) {
    case ExprKind::kColumn: {
      int index = e->index;
      if (index < 0) {
        std::string full = e->qualifier.empty() ? e->name : e->qualifier + "." + e->name;
        ARROW_ASSIGN_OR_RAISE(index, FindColumn(st.schema, full));
        if (index < 0 && !e->qualifier.empty()) {
          ARROW_ASSIGN_OR_RAISE(index, FindColumn(st.schema, e->name));
        }
        if (index < 0) {
          return Status::Invalid("unknown column '", full,
                                 "' (columns: ", Candidates(st.schema), ")");
        }
      }
      if (index >= st.schema.num_fields()) {
        return Status::Invalid("internal: column index ", index, " out of range");
      }
      auto n = std::make_shared<ExprNode>(*e);
      n->index = index;
      n->type = st.schema.field(index)->type();
      return Expr(n);
    }
    case ExprKind::kLiteral: {
      auto n = std::make_shared<ExprNode>(*e);
      if (!n->value) n->value = arrow::MakeNullScalar(arrow::null());
      n->type = n->value->type;
      return Expr(n);
    }
    case ExprKind::kAlias: {
      auto n = std::make_shared<ExprNode>(*e);
      ARROW_ASSIGN_OR_RAISE(n->args[0], BindNode(e->args[0], st, inside_aggregate));
      n->type = n->args[0]->type;
      return Expr(n);
    }
    case ExprKind::kStar:
      return Status::Invalid("'*' is not allowed here");
    case ExprKind::kAggregate:
      if (!st.allow_aggregates) {
        return Status::Invalid("aggregate function ", e->name, "() is not allowed here");
      }
      if (inside_aggregate) {
        return Status::Invalid("aggregate function calls cannot be nested");
      }
      return BindCall(e, st, true);
    case ExprKind::kCall:
      return BindCall(e, st, inside_aggregate);
  }
  return Status::Invalid("internal: bad expression kind");
}

Result<Expr> Bind(const Expr& e, const arrow::Schema& schema, bool allow_aggregates) {
  BindState st{schema, allow_aggregates,
               arrow::RecordBatch::MakeEmpty(std::make_shared<arrow::Schema>(schema))
                   .ValueOr(nullptr)};
  if (!st.empty) return Status::Invalid("internal: cannot make an empty batch");
  auto r = BindNode(e, st, false);
  if (!r.ok()) {
    return PositionError(r.status(), e->position);
  }
  return r;
}

Result<Expr> FoldConstants(const Expr& e) {
  if (e->kind == ExprKind::kLiteral || e->kind == ExprKind::kColumn) return e;
  if (e->kind == ExprKind::kCall && IsConstant(e)) {
    ARROW_ASSIGN_OR_RAISE(auto scalar, EvaluateConstant(e));
    auto lit = Literal(scalar);
    auto n = std::make_shared<ExprNode>(*lit);
    n->type = scalar->type;
    n->position = e->position;
    return Expr(n);
  }
  if (e->args.empty()) return e;
  auto n = std::make_shared<ExprNode>(*e);
  for (auto& a : n->args) {
    ARROW_ASSIGN_OR_RAISE(a, FoldConstants(a));
  }
  return Expr(n);
}

}  // namespace sluice::expr
