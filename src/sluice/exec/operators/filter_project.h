#pragma once
// Stateless streaming operators: Filter (keeps rows whose predicate is TRUE; FALSE and
// NULL are dropped) and Project (computes output columns from expressions).
//
// A filter evaluates the terms of its conjunction one after another, each over the rows
// the terms before it kept (when they dropped at least half, over a copy of just those
// rows and the columns it reads): a selective term saves the others work, and a term
// is never evaluated on a row an earlier one rejected (`x <> 0 AND y / x > 1`, a cast
// guarded by an IN list). It takes string columns dictionary-encoded
// (exec/dictionary_columns.h): a term that reads only one such column is decided once
// per dictionary value (and once for NULL), first, and applied to the rows through their
// indices; other terms see the columns decoded. Columns are decoded as late as
// possible: those the output may keep encoded (PassDictionaries) stay so, the others are
// decoded after filtering.
#include <algorithm>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class FilterFactory : public OperatorFactory {
 public:
  /// `input_width`: the number of input columns.
  FilterFactory(expr::Expr predicate, int input_width);
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;
  const expr::Expr& predicate() const { return predicate_; }
  int input_width() const { return input_width_; }
  /// The columns (input indices: a filter keeps the schema) that may leave this filter
  /// dictionary-encoded because the next operator or sink takes them so. Default none.
  void PassDictionaries(const std::vector<int>& columns);
  /// The input columns the predicate reads, ascending.
  std::vector<int> columns() const;

  /// The filter's decision without its take, for a source that reads the columns the
  /// predicate does not read only at the rows it keeps (a Parquet scan). One per
  /// worker, like the operator; the same rows, errors and dictionary handling.
  class Selector {
   public:
    virtual ~Selector() = default;
    /// The rows of `batch` (ascending) the predicate keeps. Columns it does not read
    /// (columns()) may be any arrays of the batch's length: they are not looked at.
    virtual Status Select(const std::shared_ptr<arrow::RecordBatch>& batch,
                          std::vector<int32_t>* rows) = 0;
    /// `batch` (the kept rows, all columns) as the filter would emit it: dictionary
    /// columns that the next operator does not take decoded (PassDictionaries).
    virtual Result<std::shared_ptr<arrow::RecordBatch>> DecodeForOutput(
        const std::shared_ptr<arrow::RecordBatch>& batch) = 0;
  };
  std::unique_ptr<Selector> MakeSelector() const;

  struct Term {
    expr::Expr expr;
    std::vector<int> columns;  // the input columns it reads, ascending
    expr::Expr compact;        // expr over just those columns, in that order
    bool reads(int column) const {
      return std::binary_search(columns.begin(), columns.end(), column);
    }
  };

 private:
  expr::Expr predicate_;
  int input_width_;
  std::vector<Term> terms_;  // the predicate's conjunction
  std::vector<bool> pass_;   // by column (PassDictionaries)
};

class ProjectFactory : public OperatorFactory {
 public:
  ProjectFactory(std::vector<expr::Expr> exprs, std::shared_ptr<arrow::Schema> schema)
      : OperatorFactory("Project"),
        exprs_(std::move(exprs)),
        schema_(std::move(schema)) {}
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;
  const std::vector<expr::Expr>& exprs() const { return exprs_; }

 private:
  std::vector<expr::Expr> exprs_;
  std::shared_ptr<arrow::Schema> schema_;
};

/// Filters a batch by a boolean array (NULL = drop).
Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, const arrow::Datum& mask);
/// Filters a batch by one byte per row (nonzero = keep).
Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, const std::vector<uint8_t>& keep);

}  // namespace sluice::exec
