#pragma once
// Pipelines and the executor that runs them on all cores (morsel-driven).
#include <memory>
#include <vector>

#include "sluice/exec/operator.h"

namespace sluice::exec {

struct Pipeline {
  std::shared_ptr<Source> source;
  std::vector<std::shared_ptr<OperatorFactory>> operators;
  std::shared_ptr<Sink> sink;
};

/// Runs pipelines in the given order (dependencies first, as the physical planner
/// emits them). A sink is finalized after the last pipeline that feeds it. The first
/// error cancels the run and is returned.
class Executor {
 public:
  explicit Executor(ExecContext* ctx) : ctx_(ctx) {}
  Status Run(const std::vector<Pipeline>& pipelines);

 private:
  Status RunPipeline(const std::shared_ptr<Source>& source,
                     const std::vector<std::shared_ptr<OperatorFactory>>& operators,
                     size_t first_operator, const std::shared_ptr<Sink>& sink);
  ExecContext* ctx_;
};

}  // namespace sluice::exec
