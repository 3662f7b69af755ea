#pragma once
// What a running job shares with its operators: threads, the memory budget,
// cancellation, progress counters and the spill directory.
#include <arrow/memory_pool.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sluice/base/interrupt.h"
#include "sluice/base/memory.h"

namespace sluice::exec {

class LateRowSink;

struct ExecOptions {
  int threads = 0;             // 0 = all cores
  int64_t memory_limit = 0;    // bytes; 0 = default (80% of RAM); < 0 = unlimited
  int64_t batch_rows = 65536;  // target rows per batch
  // Where operators spill when their memory reservation cannot grow: a directory in
  // which the job makes its own subdirectory. Empty: $SLUICE_SPILL_DIR, else the
  // system's temporary directory ($TMPDIR or /tmp).
  std::string spill_directory;
  // How long a regular join of two streams keeps a row, in event time: it leaves once
  // the other side's watermark passed its time plus this (operators/stream_join.h).
  // < 0: for the whole run.
  int64_t state_ttl_us = -1;
};

/// Progress counters updated by sources (rows/bytes read) and sinks.
struct Progress {
  std::atomic<int64_t> rows_read{0};
  std::atomic<int64_t> bytes_read{0};
  std::atomic<int64_t> bytes_total{0};  // known input size, 0 if unknown
  std::atomic<int64_t> rows_rejected{0};
  std::atomic<int64_t> rows_written{0};
  // Event time (operators/time_window.h): rows dropped because every window they
  // belong to had fired, and rows without an event time.
  std::atomic<int64_t> rows_late{0};
  std::atomic<int64_t> rows_without_time{0};
  // For the live status of a stream (job/progress.h): rows handed to the job's result
  // sinks so far (Sink::takes_result; rows_written counts them when the sinks finish),
  // and the highest watermark that reached one (INT64_MIN: none yet).
  std::atomic<int64_t> rows_emitted{0};
  std::atomic<int64_t> output_watermark{std::numeric_limits<int64_t>::min()};
  void RecordOutputWatermark(int64_t wm) {
    int64_t seen = output_watermark.load();
    while (wm > seen && !output_watermark.compare_exchange_weak(seen, wm)) {
    }
  }
  /// How many messages source `name` is behind the end of its input (Kafka consumer
  /// lag), as it last saw.
  void SetSourceLag(const std::string& name, int64_t lag) {
    std::lock_guard<std::mutex> lock(lag_mu_);
    lags_[name] = lag;
  }
  std::map<std::string, int64_t> SourceLags() const {
    std::lock_guard<std::mutex> lock(lag_mu_);
    return lags_;
  }

 private:
  mutable std::mutex lag_mu_;
  std::map<std::string, int64_t> lags_;
};

class ExecContext {
 public:
  explicit ExecContext(ExecOptions options);
  ~ExecContext();
  ExecContext(const ExecContext&) = delete;
  ExecContext& operator=(const ExecContext&) = delete;

  int threads() const { return threads_; }
  int64_t batch_rows() const { return options_.batch_rows; }
  int64_t state_ttl_us() const { return options_.state_ttl_us; }
  /// The late-data sink (late_rows.h), or null: late rows are only counted. Set before
  /// a run; not owned.
  LateRowSink* late_rows() const { return late_rows_; }
  void set_late_rows(LateRowSink* sink) { late_rows_ = sink; }
  MemoryBudget* budget() { return &budget_; }
  arrow::MemoryPool* pool() const { return arrow::default_memory_pool(); }
  Progress& progress() { return progress_; }

  /// The job's own spill directory, created on first use and removed with the context
  /// (with everything still in it); creating it also removes the folders that jobs
  /// killed before they could clean up left in the same place. Thread-safe.
  Result<std::string> SpillDirectory();
  /// Bytes operators wrote to spill files, over the job.
  int64_t spilled_bytes() const { return spilled_bytes_.load(std::memory_order_relaxed); }
  void AddSpilledBytes(int64_t bytes) { spilled_bytes_.fetch_add(bytes); }

  /// Set when any worker fails or the user interrupts; long loops check it.
  /// Also true after a second stop signal (base/interrupt.h).
  bool cancelled() const {
    return cancelled_.load(std::memory_order_relaxed) || StopSignals() >= 2;
  }
  /// A first stop signal arrived, or RequestStop() was called: unbounded sources end
  /// their input (interrupt.h).
  bool stop_requested() const {
    return stop_.load(std::memory_order_relaxed) || StopSignals() >= 1;
  }
  /// Stops this run as a first stop signal stops every run (an embedder stopping one
  /// job among several: api/job.h).
  void RequestStop() { stop_.store(true); }
  /// A stop signal arrived and the job reads no unbounded source: it is cancelled.
  bool interrupted() const { return !streaming_ && stop_requested(); }
  /// Set by the executor: the job reads an unbounded source.
  void set_streaming(bool streaming) { streaming_ = streaming; }
  bool streaming() const { return streaming_; }
  void Cancel() { cancelled_.store(true); }
  /// Clears what a failed run's Cancel set, before running again (a job step that did
  /// not fit in memory runs again into a file). No run may be going on.
  void ResetCancelled() { cancelled_.store(false); }

 private:
  ExecOptions options_;
  int threads_;
  MemoryBudget budget_;
  Progress progress_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> streaming_{false};  // read by the progress thread
  std::mutex spill_mu_;
  std::string spill_dir_;  // empty until SpillDirectory() made it
  std::atomic<int64_t> spilled_bytes_{0};
  LateRowSink* late_rows_ = nullptr;
};

}  // namespace sluice::exec
