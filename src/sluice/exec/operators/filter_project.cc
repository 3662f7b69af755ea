#include "sluice/exec/operators/filter_project.h"

#include <arrow/compute/api.h>

#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace cp = arrow::compute;

Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, const arrow::Datum& mask) {
  if (mask.is_scalar()) {
    // A constant predicate keeps all rows or none (NULL counts as false).
    const auto& s = static_cast<const arrow::BooleanScalar&>(*mask.scalar());
    if (s.is_valid && s.value) return batch;
    return batch->Slice(0, 0);
  }
  cp::FilterOptions opts(cp::FilterOptions::DROP);
  ARROW_ASSIGN_OR_RAISE(auto out, cp::Filter(arrow::Datum(batch), mask, opts));
  return out.record_batch();
}

namespace {

class FilterOp : public Operator {
 public:
  explicit FilterOp(const expr::Expr* predicate) : predicate_(predicate) {}
  Status ProcessBatch(Batch batch, Emitter* out) override {
    ARROW_ASSIGN_OR_RAISE(auto mask, expr::Evaluate(*predicate_, *batch.data));
    ARROW_ASSIGN_OR_RAISE(auto filtered, FilterBatch(batch.data, mask));
    if (filtered->num_rows() == 0) return Status::OK();
    return out->Emit(Batch{std::move(filtered), batch.seq});
  }

 private:
  const expr::Expr* predicate_;
};

class ProjectOp : public Operator {
 public:
  ProjectOp(const std::vector<expr::Expr>* exprs, std::shared_ptr<arrow::Schema> schema)
      : exprs_(exprs), schema_(std::move(schema)) {}
  Status ProcessBatch(Batch batch, Emitter* out) override {
    arrow::ArrayVector columns;
    columns.reserve(exprs_->size());
    for (size_t i = 0; i < exprs_->size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray((*exprs_)[i], *batch.data));
      const auto& want = schema_->field(static_cast<int>(i))->type();
      if (!arr->type()->Equals(*want)) {
        ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(arr, want));
        arr = d.make_array();
      }
      columns.push_back(std::move(arr));
    }
    return out->Emit(Batch{
        arrow::RecordBatch::Make(schema_, batch.data->num_rows(), std::move(columns)),
        batch.seq});
  }

 private:
  const std::vector<expr::Expr>* exprs_;
  std::shared_ptr<arrow::Schema> schema_;
};

}  // namespace

Result<std::unique_ptr<Operator>> FilterFactory::Make(ExecContext* ctx, int worker) {
  return std::make_unique<FilterOp>(&predicate_);
}

Result<std::unique_ptr<Operator>> ProjectFactory::Make(ExecContext* ctx, int worker) {
  return std::make_unique<ProjectOp>(&exprs_, schema_);
}

}  // namespace sluice::exec
