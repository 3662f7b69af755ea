#include "sluice/api/job.h"

#include "sluice/api/session.h"
#include "sluice/job/query.h"
#include "sluice/sql/sql_planner.h"

namespace sluice {

Job::Job(std::string statement, exec::ExecOptions options)
    : statement_(std::move(statement)),
      ctx_(options),
      started_(std::chrono::steady_clock::now()) {}

Job::~Job() {
  Abort();
  std::call_once(joined_, [&] { thread_.join(); });
}

JobStatus Job::status() const {
  JobStatus s;
  const exec::Progress& p = ctx_.progress();
  s.rows_read = p.rows_read.load();
  s.rows_out = std::max(p.rows_emitted.load(), p.rows_written.load());
  s.rows_late = p.rows_late.load();
  s.rows_rejected = p.rows_rejected.load();
  s.watermark_us = p.output_watermark.load();
  std::lock_guard<std::mutex> lock(mu_);
  s.running = !done_;
  s.seconds =
      done_ ? seconds_
            : std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
                  .count();
  if (done_ && !result_.ok()) s.error = result_.status().ToString();
  return s;
}

void Job::Stop() { ctx_.RequestStop(); }

void Job::Abort() { ctx_.Cancel(); }

bool Job::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (timeout.count() < 0) {
    done_cv_.wait(lock, [&] { return done_; });
    return true;
  }
  return done_cv_.wait_for(lock, timeout, [&] { return done_; });
}

Result<int64_t> Job::Wait() {
  WaitFor(std::chrono::milliseconds(-1));
  std::call_once(joined_, [&] { thread_.join(); });
  std::lock_guard<std::mutex> lock(mu_);
  return result_;
}

Result<std::shared_ptr<Job>> Session::Start(const std::string& statement) {
  sql::PlannedStatement planned;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    ARROW_ASSIGN_OR_RAISE(planned, sql::PlanStatement(statement, &catalog_));
  }
  if (planned.kind != sql::StatementKind::kCopy) {
    return Status::Invalid(
        "Start() runs a COPY (query) TO ... statement (a query into a sink); use sql() "
        "and collect() for a query's rows");
  }
  exec::ExecOptions options;
  options.threads = options_.threads;
  options.memory_limit = options_.memory_limit;
  options.batch_rows = options_.batch_rows;
  std::shared_ptr<Job> job(new Job(statement, options));
  std::shared_ptr<Session> self = shared_from_this();
  Job* raw = job.get();
  raw->thread_ = std::thread([raw, self, planned = std::move(planned)] {
    Result<int64_t> result = job::WriteQuery(planned.plan, &raw->ctx_, planned.write);
    {
      // Publish the rejects files of what the job read, as Run() does for queries.
      std::lock_guard<std::mutex> lock(self->catalog_mu_);
      Status closed = self->catalog_.CloseInputs();
      if (result.ok() && !closed.ok()) result = closed;
    }
    std::lock_guard<std::mutex> lock(raw->mu_);
    raw->seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - raw->started_)
            .count();
    raw->result_ = std::move(result);
    raw->done_ = true;
    raw->done_cv_.notify_all();
  });
  return job;
}

}  // namespace sluice
