#include "sluice/exec/exec_context.h"

#include "sluice/base/parallel.h"

namespace sluice::exec {

static int64_t ResolveLimit(int64_t limit) {
  if (limit == 0) return MemoryBudget::DefaultLimit();
  return limit < 0 ? 0 : limit;
}

ExecContext::ExecContext(ExecOptions options)
    : options_(options),
      threads_(options.threads > 0 ? options.threads : DefaultThreadCount()),
      budget_(ResolveLimit(options.memory_limit)) {}

}  // namespace sluice::exec
