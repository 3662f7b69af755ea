#include "sluice/exec/operators/updating_aggregate.h"

#include <arrow/compute/api.h>

#include "sluice/base/memory.h"
#include "sluice/exec/key_index.h"
#include "sluice/exec/operators/aggregate_functions.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

class UpdatingAggregateOp : public Operator {
 public:
  UpdatingAggregateOp(ExecContext* ctx, UpdatingAggregateFactory* factory)
      : ctx_(ctx), f_(factory), reservation_(ctx->budget(), "UpdatingAggregate") {}

  Status Init() {
    std::vector<std::shared_ptr<arrow::DataType>> types;
    for (const auto& k : f_->keys()) types.push_back(k->type);
    if (!types.empty()) {
      ARROW_ASSIGN_OR_RAISE(index_, KeyIndex::Make(types));
    }
    ARROW_RETURN_NOT_OK(UpdatingAggregateFactory::Check(f_->aggregates()));
    for (const auto& a : f_->aggregates()) {
      ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
      accs_.push_back(std::move(acc));
    }
    return Status::OK();
  }

  Status ProcessBatch(Batch batch, Emitter* out) override {
    const auto& rb = *batch.data;
    const int64_t n = rb.num_rows();
    if (n == 0) return Status::OK();
    arrow::ArrayVector keys;
    for (const auto& k : f_->keys()) {
      ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, rb));
      keys.push_back(std::move(arr));
    }
    ids_.resize(n);
    if (index_) {
      ARROW_RETURN_NOT_OK(index_->Insert(keys, KeyIndex::Nulls::kGroup, ids_.data()));
      groups_ = index_->size();
    } else {
      std::fill(ids_.begin(), ids_.end(), 0);
      groups_ = 1;
    }
    for (size_t a = 0; a < accs_.size(); ++a) {
      ARROW_ASSIGN_OR_RAISE(auto arg, AggregateArgument(*f_->aggregates()[a], rb));
      ARROW_RETURN_NOT_OK(accs_[a]->Resize(groups_));
      ARROW_RETURN_NOT_OK(accs_[a]->Update(arg, ids_.data(), n));
    }
    // The keys this batch touched, each with its first row here (for its key values).
    touched_at_.resize(groups_, -1);
    touched_.clear();
    first_rows_.clear();
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t g = ids_[i];
      if (touched_at_[g] == stamp_) continue;
      touched_at_[g] = stamp_;
      touched_.push_back(g);
      first_rows_.push_back(static_cast<int32_t>(i));
    }
    ++stamp_;
    ARROW_RETURN_NOT_OK(EmitRows(keys, out));
    return Account();
  }

 private:
  // The current row of every touched key.
  Status EmitRows(const arrow::ArrayVector& keys, Emitter* out) {
    const int64_t m = static_cast<int64_t>(touched_.size());
    const auto& schema = f_->output_schema();
    arrow::ArrayVector columns;
    for (size_t k = 0; k < keys.size(); ++k) {
      ARROW_ASSIGN_OR_RAISE(auto col,
                            TakeRows(keys[k], first_rows_.data(), m, ctx_->pool()));
      const auto& type = schema->field(static_cast<int>(k))->type();
      if (!col->type()->Equals(*type)) {
        ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(col, type));
        col = cast.make_array();
      }
      columns.push_back(std::move(col));
    }
    std::vector<uint32_t> to(m);
    for (int64_t j = 0; j < m; ++j) to[j] = static_cast<uint32_t>(j);
    for (size_t a = 0; a < accs_.size(); ++a) {
      ARROW_ASSIGN_OR_RAISE(auto fresh, MakeAccumulator(*f_->aggregates()[a]));
      ARROW_RETURN_NOT_OK(fresh->Resize(m));
      ARROW_RETURN_NOT_OK(
          fresh->MergeSome(accs_[a].get(), touched_.data(), to.data(), m));
      ARROW_ASSIGN_OR_RAISE(auto values, fresh->Finalize());
      columns.push_back(std::move(values));
    }
    return out->Emit(Batch{arrow::RecordBatch::Make(schema, m, std::move(columns)), 0});
  }

  Status Account() {
    int64_t bytes = index_ ? index_->MemoryUsage() : 0;
    for (const auto& a : accs_) bytes += a->MemoryUsage();
    bytes += static_cast<int64_t>(touched_at_.size() * sizeof(int64_t));
    f_->metrics().RecordPeak(bytes);
    return reservation_.Resize(bytes);
  }

  ExecContext* ctx_;
  UpdatingAggregateFactory* f_;
  MemoryReservation reservation_;
  std::unique_ptr<KeyIndex> index_;
  std::vector<std::unique_ptr<GroupedAccumulator>> accs_;
  int64_t groups_ = 0;
  std::vector<uint32_t> ids_;
  std::vector<int64_t> touched_at_;  // by group: the stamp of the last batch touching it
  int64_t stamp_ = 0;
  std::vector<uint32_t> touched_;
  std::vector<int32_t> first_rows_;
};

}  // namespace

UpdatingAggregateFactory::UpdatingAggregateFactory(
    std::vector<expr::Expr> keys, std::vector<expr::Expr> aggregates,
    std::shared_ptr<arrow::Schema> output_schema)
    : OperatorFactory("UpdatingAggregate"),
      keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      output_schema_(std::move(output_schema)) {}

Status UpdatingAggregateFactory::Check(const std::vector<expr::Expr>& aggregates) {
  for (const auto& a : aggregates) {
    ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
    if (!acc->PartialMerge()) {
      return Status::NotImplemented(
          a->name, a->distinct ? " (DISTINCT)" : "",
          " in a GROUP BY without windows over an unbounded stream (an updating result): "
          "only aggregates that merge (count, sum, avg, min, max, ...) so far");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<Operator>> UpdatingAggregateFactory::Make(ExecContext* ctx, int) {
  auto op = std::make_unique<UpdatingAggregateOp>(ctx, this);
  ARROW_RETURN_NOT_OK(op->Init());
  return op;
}

}  // namespace sluice::exec
