#pragma once
// Pipelines and the executor that runs them on all cores (morsel-driven).
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "sluice/exec/operator.h"

namespace sluice::exec {

/// Runs `fn` and adds its time to *self_nanos, less the time of the timed calls inside
/// it (which the timed call around this one does not count either): the self times of
/// EXPLAIN ANALYZE. For work a node does for another one (a scan running its filter).
Status TimeSelf(std::atomic<int64_t>* self_nanos, const std::function<Status()>& fn);

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
