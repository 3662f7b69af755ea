#include "sluice/exec/operators/updating_aggregate.h"

#include <arrow/compute/api.h>

#include "sluice/base/memory.h"
#include "sluice/exec/operators/aggregate_functions.h"
#include "sluice/exec/state/state_backend.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

class UpdatingAggregateOp : public Operator {
 public:
  UpdatingAggregateOp(ExecContext* ctx, UpdatingAggregateFactory* factory, int worker)
      : ctx_(ctx),
        f_(factory),
        reservation_(ctx->budget(), "UpdatingAggregate"),
        worker_(worker) {}

  Status Init() {
    ARROW_ASSIGN_OR_RAISE(backend_, MakeStateBackend(ctx_, worker_));
    ARROW_RETURN_NOT_OK(UpdatingAggregateFactory::Check(f_->aggregates()));
    AccumulatorsDesc desc;
    desc.name = "groups";
    for (const auto& k : f_->keys()) desc.key_types.push_back(k->type);
    desc.aggregates = f_->aggregates();
    ARROW_ASSIGN_OR_RAISE(groups_, backend_->Accumulators(desc, 0));
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
    ARROW_RETURN_NOT_OK(groups_->FindOrInsert(keys, n, ids_.data()));
    arrow::ArrayVector args;
    for (const auto& a : f_->aggregates()) {
      ARROW_ASSIGN_OR_RAISE(auto arg, AggregateArgument(*a, rb));
      args.push_back(std::move(arg));
    }
    ARROW_RETURN_NOT_OK(groups_->Update(args, ids_.data(), n));
    // The keys this batch touched, each with its first row here (for its key values).
    touched_at_.resize(groups_->num_keys(), -1);
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
    ARROW_ASSIGN_OR_RAISE(auto values, groups_->Finalize(touched_.data(), m));
    for (auto& v : values) columns.push_back(std::move(v));
    return out->Emit(Batch{arrow::RecordBatch::Make(schema, m, std::move(columns)), 0});
  }

  Status Account() {
    int64_t bytes = backend_->MemoryUsage();
    bytes += static_cast<int64_t>(touched_at_.size() * sizeof(int64_t));
    f_->metrics().RecordPeak(bytes);
    return reservation_.Resize(bytes);
  }

  ExecContext* ctx_;
  UpdatingAggregateFactory* f_;
  MemoryReservation reservation_;
  int worker_;
  // The keys and their accumulators: keyed state (state_backend.h), a slot per key.
  std::unique_ptr<StateBackend> backend_;
  KeyedAccumulators* groups_ = nullptr;
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

Result<std::unique_ptr<Operator>> UpdatingAggregateFactory::Make(ExecContext* ctx,
                                                                 int worker) {
  auto op = std::make_unique<UpdatingAggregateOp>(ctx, this, worker);
  ARROW_RETURN_NOT_OK(op->Init());
  return op;
}

}  // namespace sluice::exec
