#pragma once
// A GROUP BY without windows over an unbounded stream (docs/design/streams.md,
// "Updating results"): its result never becomes final, so it is an updating one, a
// row per key that changes as rows arrive. This operator keeps each key's
// accumulators as keyed state (state/state_backend.h: a slot per key; an exchange in
// front sends every key to the worker that owns its key group) and, after every
// batch, emits the new row of each key the batch touched: an upsert stream keyed by
// the GROUP BY columns, the latest row per key being the result so far. Only a sink
// that takes upserts may receive it (Sink::TakeUpdates; Kafka keyed by the GROUP BY
// column); the planner refuses the others, and any operator but a projection above it.
//
// Aggregates must merge (decomposable: count, sum, avg, min, max, ...): a key's row
// is computed by merging its state into a fresh accumulator, leaving the state as it
// was. Memory: the keys and accumulators, under "UpdatingAggregate"; past the limit
// the job fails with the memory error (state does not spill yet).
#include <memory>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class UpdatingAggregateFactory : public OperatorFactory {
 public:
  /// `keys` and `aggregates` over the input; output: the keys, then the aggregates
  /// (`output_schema`).
  UpdatingAggregateFactory(std::vector<expr::Expr> keys,
                           std::vector<expr::Expr> aggregates,
                           std::shared_ptr<arrow::Schema> output_schema);
  Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) override;
  /// OK if every aggregate merges (the planner checks before anything runs).
  static Status Check(const std::vector<expr::Expr>& aggregates);

  const std::vector<expr::Expr>& keys() const { return keys_; }
  const std::vector<expr::Expr>& aggregates() const { return aggregates_; }
  const std::shared_ptr<arrow::Schema>& output_schema() const { return output_schema_; }

 private:
  std::vector<expr::Expr> keys_;
  std::vector<expr::Expr> aggregates_;
  std::shared_ptr<arrow::Schema> output_schema_;
};

}  // namespace sluice::exec
