#pragma once
// Job: a statement running in the background — typically a stream into a sink — started
// by Session::Start("COPY (...) TO ...").
//
//   ARROW_ASSIGN_OR_RAISE(auto job, session->Start(
//       "COPY (SELECT ... FROM TUMBLE(...) GROUP BY ...) TO 'out/' (FORMAT parquet, "
//       "ROLL_INTERVAL '1 minute')"));
//   ...  job->status() ...
//   job->Stop();                        // graceful: the input ends here, everything
//   drains ARROW_ASSIGN_OR_RAISE(int64_t rows, job->Wait());
//
// The statement is planned when Start() is called (errors surface there) and runs on a
// thread of its own, with an execution context of its own: it does not take the
// session's run lock, so the session's other queries run beside it (each using the
// session's threads). Stop() ends unbounded sources' input as a first Ctrl-C does for
// the CLI (windows fire, sinks flush, Kafka offsets are committed); a job over bounded
// input is cancelled by it and publishes nothing. Abort() cancels at once.
//
// Thread-safety: every method may be called from any thread. Destroying a running Job
// aborts it without waiting: its thread ends on its own (Wait() first to know when).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sluice/base/status.h"
#include "sluice/exec/exec_context.h"

namespace sluice {

class Session;

struct JobStatus {
  bool running = false;
  int64_t rows_read = 0;  // rows the sources produced
  int64_t rows_out = 0;   // rows handed to the sink so far
  int64_t rows_late = 0;  // rows dropped as late by windows and stream joins
  int64_t rows_rejected = 0;
  /// The highest watermark that reached the sink (microseconds since the epoch), or
  /// INT64_MIN when none has yet.
  int64_t watermark_us = INT64_MIN;
  double seconds = 0;  // since the start
  /// Empty while running and after success; the error of a failed job.
  std::string error;
};

class Job {
 public:
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  JobStatus status() const;
  /// Graceful stop (see above). Idempotent.
  void Stop();
  /// Cancels the job at once: nothing it was writing is published.
  void Abort();
  /// Waits at most `timeout` (forever when negative); true once the job has finished.
  bool WaitFor(std::chrono::milliseconds timeout);
  /// Waits for the end: the rows written, or the job's error.
  Result<int64_t> Wait();
  /// The statement as given.
  const std::string& statement() const { return statement_; }

 private:
  friend class Session;
  Job(std::string statement, exec::ExecOptions options);

  // What the job's thread uses: shared, so that it outlives a Job destroyed while the
  // thread still runs.
  struct State {
    explicit State(exec::ExecOptions options) : ctx(options) {}
    exec::ExecContext ctx;
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    Result<int64_t> result = Status::Invalid("the job has not finished");
    double seconds = 0;  // once done
  };

  std::string statement_;
  std::shared_ptr<State> state_;
  std::chrono::steady_clock::time_point started_;
  std::thread thread_;
  std::once_flag joined_;
};

}  // namespace sluice
