#include "sluice/base/parallel.h"

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice {

int DefaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

Status RunWorkers(int n, const std::function<Status(int worker)>& fn) {
  if (n <= 1) return fn(0);
  std::vector<Status> results(n);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (int w = 1; w < n; ++w) {
    threads.emplace_back([&, w] { results[w] = fn(w); });
  }
  results[0] = fn(0);
  for (auto& t : threads) t.join();
  // The first real error; a worker that stopped because another failed reports
  // Cancelled, which must not hide the cause.
  for (auto& st : results) {
    if (!st.ok() && !st.IsCancelled()) return st;
  }
  for (auto& st : results) {
    if (!st.ok()) return st;
  }
  return Status::OK();
}

}  // namespace sluice
