#pragma once
// Stateless streaming operators: Filter (keeps rows whose predicate is TRUE; FALSE and
// NULL are dropped) and Project (computes output columns from expressions).
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class FilterFactory : public OperatorFactory {
 public:
  explicit FilterFactory(expr::Expr predicate)
      : OperatorFactory("Filter"), predicate_(std::move(predicate)) {}
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;
  const expr::Expr& predicate() const { return predicate_; }

 private:
  expr::Expr predicate_;
};

class ProjectFactory : public OperatorFactory {
 public:
  ProjectFactory(std::vector<expr::Expr> exprs, std::shared_ptr<arrow::Schema> schema)
      : OperatorFactory("Project"),
        exprs_(std::move(exprs)),
        schema_(std::move(schema)) {}
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;

 private:
  std::vector<expr::Expr> exprs_;
  std::shared_ptr<arrow::Schema> schema_;
};

/// Filters a batch by a boolean array (NULL = drop).
Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, const arrow::Datum& mask);

}  // namespace sluice::exec
