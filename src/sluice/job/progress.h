#pragma once
// The progress bar on stderr: rows and bytes read, throughput, elapsed time and an
// ETA when the input size is known. Shown only on a terminal, and only once a run has
// lasted a second. Redraws from its own thread every 200 ms.
#include <atomic>
#include <chrono>
#include <thread>

#include "sluice/exec/exec_context.h"

namespace sluice::job {

class ProgressBar {
 public:
  /// `enabled` false makes every call a no-op (not a terminal, --quiet).
  ProgressBar(exec::ExecContext* ctx, bool enabled);
  ~ProgressBar() { Stop(); }
  /// Stops the thread and erases the bar.
  void Stop();

 private:
  void Loop();
  void Draw(double elapsed);

  exec::ExecContext* ctx_;
  bool enabled_;
  std::atomic<bool> stop_{false};
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

/// True if stderr is a terminal.
bool StderrIsTerminal();

}  // namespace sluice::job
