#include "sluice/expr/eval.h"

#include <arrow/array/util.h>
#include <arrow/compute/api.h>

#include "sluice/expr/function_registry.h"

namespace sluice::expr {

static Result<arrow::Datum> EvalNode(const ExprNode& e, const arrow::RecordBatch& batch,
                                     const EvalContext& ctx) {
  switch (e.kind) {
    case ExprKind::kColumn:
      if (e.index < 0 || e.index >= batch.num_columns()) {
        return Status::Invalid("internal: unbound column '", e.name, "' in evaluation");
      }
      return arrow::Datum(batch.column(e.index));
    case ExprKind::kLiteral:
      return arrow::Datum(e.value);
    case ExprKind::kAlias:
      return EvalNode(*e.args[0], batch, ctx);
    case ExprKind::kCall: {
      const FunctionDef* def = FindFunction(e.name);
      if (def == nullptr) return Status::Invalid("unknown function '", e.name, "'");
      std::vector<arrow::Datum> args;
      args.reserve(e.args.size());
      for (const auto& a : e.args) {
        ARROW_ASSIGN_OR_RAISE(auto d, EvalNode(*a, batch, ctx));
        args.push_back(std::move(d));
      }
      auto result = def->eval(e, args, ctx);
      if (!result.ok()) {
        // Name the expression in the error.
        return result.status().WithMessage(result.status().message(), " (in ",
                                           ToString(std::make_shared<ExprNode>(e)), ")");
      }
      return result;
    }
    case ExprKind::kAggregate:
      return Status::Invalid("aggregate ", e.name, "() is not allowed here");
    case ExprKind::kStar:
      return Status::Invalid("'*' is not allowed here");
  }
  return Status::Invalid("internal: bad expression");
}

Result<arrow::Datum> Evaluate(const Expr& e, const arrow::RecordBatch& batch) {
  EvalContext ctx;
  ctx.num_rows = batch.num_rows();
  return EvalNode(*e, batch, ctx);
}

Result<std::shared_ptr<arrow::Array>> EvaluateToArray(const Expr& e,
                                                      const arrow::RecordBatch& batch) {
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(e, batch));
  if (d.is_scalar()) {
    return arrow::MakeArrayFromScalar(*d.scalar(), batch.num_rows());
  }
  if (d.is_chunked_array()) {
    ARROW_ASSIGN_OR_RAISE(auto arr, arrow::Concatenate(d.chunked_array()->chunks()));
    return arr;
  }
  return d.make_array();
}

Result<std::shared_ptr<arrow::Scalar>> EvaluateConstant(const Expr& e) {
  static const auto empty =
      arrow::RecordBatch::Make(arrow::schema({}), 1, arrow::ArrayVector{});
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(e, *empty));
  if (d.is_scalar()) return d.scalar();
  ARROW_ASSIGN_OR_RAISE(auto arr, EvaluateToArray(e, *empty));
  return arr->GetScalar(0);
}

}  // namespace sluice::expr
