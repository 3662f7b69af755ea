#pragma once
// Running work on all cores.
#include <functional>

#include "sluice/base/status.h"

namespace sluice {

/// Number of hardware threads (at least 1).
int DefaultThreadCount();

/// Runs fn(worker) for worker in [0, n) on n threads (the calling thread is worker 0)
/// and returns the first error that is not Cancelled (workers that stop because
/// another one failed report Cancelled), or Cancelled if that is all there is. All
/// workers run to completion; a worker that wants the others to stop early must signal
/// them itself (e.g. via an atomic flag).
Status RunWorkers(int n, const std::function<Status(int worker)>& fn);

}  // namespace sluice
