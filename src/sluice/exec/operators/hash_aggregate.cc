#include "sluice/exec/operators/hash_aggregate.h"

#include "sluice/exec/key_index.h"
#include "sluice/exec/operators/aggregate_functions.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

struct AggregateLocal : LocalSinkState {
  MemoryReservation reservation;
  std::unique_ptr<KeyIndex> table;  // null for a global aggregate (one group)
  std::vector<std::unique_ptr<GroupedAccumulator>> accumulators;
  std::vector<uint32_t> ids;

  int64_t groups() const { return table ? table->size() : 1; }
  int64_t MemoryUsage() const {
    int64_t total =
        (table ? table->MemoryUsage() : 0) + static_cast<int64_t>(ids.capacity() * 4);
    for (const auto& a : accumulators) total += a->MemoryUsage();
    return total;
  }
};

}  // namespace

HashAggregate::HashAggregate(std::vector<expr::Expr> keys,
                             std::vector<expr::Expr> aggregates,
                             std::shared_ptr<arrow::Schema> output_schema)
    : PhysicalNode("HashAggregate"),
      keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      output_schema_(std::move(output_schema)) {}

Result<std::unique_ptr<LocalSinkState>> HashAggregate::MakeLocal(ExecContext* ctx,
                                                                 int worker) {
  auto local = std::make_unique<AggregateLocal>();
  local->reservation = MemoryReservation(ctx->budget(), name());
  if (!keys_.empty()) {
    std::vector<std::shared_ptr<arrow::DataType>> types;
    for (const auto& k : keys_) types.push_back(k->type);
    ARROW_ASSIGN_OR_RAISE(local->table, KeyIndex::Make(types));
  }
  for (const auto& a : aggregates_) {
    ARROW_ASSIGN_OR_RAISE(auto acc, MakeAccumulator(*a));
    local->accumulators.push_back(std::move(acc));
  }
  return local;
}

Status HashAggregate::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<AggregateLocal*>(local_base);
  const auto& rb = *batch.data;
  const int64_t n = rb.num_rows();
  if (n == 0) return Status::OK();
  std::vector<std::shared_ptr<arrow::Array>> key_arrays;
  for (const auto& k : keys_) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, rb));
    key_arrays.push_back(std::move(arr));
  }
  local->ids.resize(n);
  if (keys_.empty()) {
    std::fill(local->ids.begin(), local->ids.end(), 0);
  } else {
    ARROW_RETURN_NOT_OK(
        local->table->Insert(key_arrays, KeyIndex::Nulls::kGroup, local->ids.data()));
  }
  const int64_t groups = local->groups();
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    auto& acc = local->accumulators[a];
    ARROW_RETURN_NOT_OK(acc->Resize(groups));
    std::shared_ptr<arrow::Array> arg;
    const auto& args = aggregates_[a]->args;
    if (args.size() == 2 && IsPairAggregate(aggregates_[a]->name)) {
      // Two-argument aggregates (corr, covar_*) see one struct array of both.
      ARROW_ASSIGN_OR_RAISE(auto x, expr::EvaluateToArray(args[0], rb));
      ARROW_ASSIGN_OR_RAISE(auto y, expr::EvaluateToArray(args[1], rb));
      ARROW_ASSIGN_OR_RAISE(arg,
                            arrow::StructArray::Make(arrow::ArrayVector{x, y},
                                                     std::vector<std::string>{"x", "y"}));
    } else if (!args.empty()) {
      ARROW_ASSIGN_OR_RAISE(arg, expr::EvaluateToArray(args[0], rb));
    }
    ARROW_RETURN_NOT_OK(acc->Update(arg, local->ids.data(), n));
  }
  int64_t usage = local->MemoryUsage();
  metrics().RecordPeak(usage);
  return local->reservation.Resize(usage);
}

Status HashAggregate::FinishLocal(ExecContext* ctx,
                                  std::unique_ptr<LocalSinkState> local) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_.push_back(std::move(local));
  return Status::OK();
}

Status HashAggregate::Finalize(ExecContext* ctx) {
  batch_rows_ = ctx->batch_rows();
  if (finished_.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto l, MakeLocal(ctx, 0));
    finished_.push_back(std::move(l));
  }
  auto* global = static_cast<AggregateLocal*>(finished_[0].get());
  for (size_t w = 1; w < finished_.size(); ++w) {
    auto* other = static_cast<AggregateLocal*>(finished_[w].get());
    std::vector<uint32_t> mapping(other->groups(), 0);
    if (global->table) {
      ARROW_RETURN_NOT_OK(global->table->InsertAll(*other->table, mapping.data()));
    }
    for (size_t a = 0; a < aggregates_.size(); ++a) {
      ARROW_RETURN_NOT_OK(global->accumulators[a]->Resize(global->groups()));
      ARROW_RETURN_NOT_OK(other->accumulators[a]->Resize(other->groups()));
      ARROW_RETURN_NOT_OK(
          global->accumulators[a]->Merge(other->accumulators[a].get(), mapping.data()));
    }
    ARROW_RETURN_NOT_OK(global->reservation.Resize(global->MemoryUsage()));
    finished_[w].reset();
  }
  const int64_t groups = global->groups();
  std::vector<std::shared_ptr<arrow::Array>> columns;
  if (global->table) {
    ARROW_ASSIGN_OR_RAISE(columns, global->table->KeyColumns(ctx->pool()));
  }
  for (auto& acc : global->accumulators) {
    ARROW_RETURN_NOT_OK(acc->Resize(groups));
    ARROW_ASSIGN_OR_RAISE(auto arr, acc->Finalize());
    columns.push_back(std::move(arr));
  }
  // Result columns may come out with a slightly different type than planned (e.g.
  // large vs. plain strings); cast to the planned schema.
  for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
    const auto& want = output_schema_->field(i)->type();
    if (!columns[i]->type()->Equals(*want)) {
      ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(columns[i], want));
      columns[i] = d.make_array();
    }
  }
  result_ = arrow::RecordBatch::Make(output_schema_, groups, columns);
  result_reservation_ = MemoryReservation(ctx->budget(), name() + " result");
  ARROW_RETURN_NOT_OK(result_reservation_.Grow(BatchMemory(*result_)));
  finished_.clear();
  return Status::OK();
}

int64_t HashAggregate::num_morsels() const {
  if (!result_) return 0;
  return (result_->num_rows() + batch_rows_ - 1) / batch_rows_;
}

Status HashAggregate::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  int64_t offset = morsel * batch_rows_;
  return out->Emit(Batch{result_->Slice(offset, batch_rows_), MorselSeq(morsel, 0)});
}

}  // namespace sluice::exec
