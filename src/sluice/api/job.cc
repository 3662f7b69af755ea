#include "sluice/api/job.h"

#include "sluice/api/session.h"
#include "sluice/job/query.h"
#include "sluice/plan/plan_rewrite.h"
#include "sluice/sql/sql_planner.h"

namespace sluice {

Job::Job(std::string statement, exec::ExecOptions options)
    : statement_(std::move(statement)),
      state_(std::make_shared<State>(options)),
      started_(std::chrono::steady_clock::now()) {}

Job::~Job() {
  // No join: the destructor may run where the job's thread waits (a Python UDF in it
  // waiting for the GIL the destroying thread holds). The thread keeps the state it
  // needs alive and ends on its own, cancelled.
  if (thread_.joinable()) {
    state_->ctx.Cancel();
    thread_.detach();
  }
}

JobStatus Job::status() const {
  JobStatus s;
  const exec::Progress& p = state_->ctx.progress();
  s.rows_read = p.rows_read.load();
  s.rows_out = std::max(p.rows_emitted.load(), p.rows_written.load());
  s.rows_late = p.rows_late.load();
  s.rows_rejected = p.rows_rejected.load();
  s.watermark_us = p.output_watermark.load();
  std::lock_guard<std::mutex> lock(state_->mu);
  s.running = !state_->done;
  s.seconds =
      state_->done
          ? state_->seconds
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
                .count();
  if (state_->done && !state_->result.ok()) s.error = state_->result.status().ToString();
  return s;
}

void Job::Stop() { state_->ctx.RequestStop(); }

void Job::Abort() { state_->ctx.Cancel(); }

bool Job::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(state_->mu);
  if (timeout.count() < 0) {
    state_->done_cv.wait(lock, [&] { return state_->done; });
    return true;
  }
  return state_->done_cv.wait_for(lock, timeout, [&] { return state_->done; });
}

Result<int64_t> Job::Wait() {
  WaitFor(std::chrono::milliseconds(-1));
  std::call_once(joined_, [&] { thread_.join(); });
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->result;
}

Result<std::shared_ptr<Job>> Session::Start(const std::string& statement) {
  sql::PlannedStatement planned;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    ARROW_ASSIGN_OR_RAISE(planned, sql::PlanStatement(statement, &catalog_));
    // Registered frames' nodes are shared with other queries, and running a plan
    // numbers its nodes in place: the job runs a copy.
    if (planned.plan) planned.plan = plan::CopyTree(planned.plan);
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
  std::shared_ptr<Job::State> state = job->state_;
  const auto started = job->started_;
  job->thread_ = std::thread([state, self, started, planned = std::move(planned)] {
    Result<int64_t> result = job::WriteQuery(planned.plan, &state->ctx, planned.write);
    {
      // Publish the rejects files of what the job read, as Run() does for queries.
      std::lock_guard<std::mutex> lock(self->catalog_mu_);
      Status closed = self->CloseInputsOf(planned.plan);
      if (result.ok() && !closed.ok()) result = closed;
    }
    std::lock_guard<std::mutex> lock(state->mu);
    state->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    state->result = std::move(result);
    state->done = true;
    state->done_cv.notify_all();
  });
  return job;
}

}  // namespace sluice
