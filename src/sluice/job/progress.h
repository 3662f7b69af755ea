#pragma once
// The progress bar on stderr: rows and bytes read, throughput, elapsed time and an
// ETA when the input size is known. Shown only on a terminal, and only once a run has
// lasted a second. Redraws from its own thread every 200 ms. For a job reading an
// unbounded stream it is a live status instead (FormatStreamStatus).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
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
  std::string StreamLine(double elapsed);

  exec::ExecContext* ctx_;
  // The counts at the last draw, for rates over the last interval.
  double last_elapsed_ = 0;
  int64_t last_in_ = 0;
  int64_t last_out_ = 0;
  bool enabled_;
  std::atomic<bool> stop_{false};
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

/// What the live status of a stream shows.
struct StreamStatus {
  double elapsed = 0;    // seconds
  int64_t rows_in = 0;   // read from the sources
  double in_rate = 0;    // rows/s over the last interval
  int64_t rows_out = 0;  // handed to the sinks
  double out_rate = 0;
  int64_t watermark = INT64_MIN;  // event time (us) that reached the sinks; MIN: none
  int64_t now = 0;                // wall clock (us since the epoch)
  int64_t late = 0;
  std::map<std::string, int64_t> lags;  // messages behind, by source
};
/// One line: "stream 12.3s · in 1.2M (98.1K/s) · out 4.5K (310/s) · watermark
/// 2015-07-15 00:01:02 (lag 2.1s) · late 12 · kafka bids lag 1.2K".
std::string FormatStreamStatus(const StreamStatus& s);

/// True if stderr is a terminal.
bool StderrIsTerminal();

}  // namespace sluice::job
