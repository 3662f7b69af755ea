#include "sluice/exec/pipeline.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "sluice/base/interrupt.h"
#include "sluice/base/parallel.h"

namespace sluice::exec {

namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Push-based calls nest: an operator's call includes the time of everything downstream.
// Each timed call records its own time minus the time of the timed calls inside it.
thread_local int64_t tl_nested_nanos = 0;

template <typename Fn>
Status TimeSelfInline(std::atomic<int64_t>* self_nanos, Fn&& fn) {
  int64_t saved = tl_nested_nanos;
  tl_nested_nanos = 0;
  int64_t start = NowNanos();
  Status st = fn();
  int64_t elapsed = NowNanos() - start;
  *self_nanos += elapsed - tl_nested_nanos;
  tl_nested_nanos = saved + elapsed;
  return st;
}

// Pushes into operator i of a worker's chain, or into the sink after the last one.
class ChainEmitter : public Emitter {
 public:
  ChainEmitter(ExecContext* ctx, Operator* op, OperatorFactory* factory, Emitter* next,
               Sink* sink, LocalSinkState* local)
      : ctx_(ctx), op_(op), factory_(factory), next_(next), sink_(sink), local_(local) {}

  Status Emit(Batch batch) override {
    if (ctx_->cancelled()) return Status::Cancelled("cancelled");
    // A job of bounded input has no graceful middle: it stops without publishing.
    if (ctx_->interrupted()) return Status::Cancelled("interrupted");
    if (op_ == nullptr) {
      if (sink_->takes_result()) ctx_->progress().rows_emitted += batch.data->num_rows();
      return TimeSelfInline(&sink_->metrics().nanos, [&] {
        return sink_->Consume(ctx_, local_, std::move(batch));
      });
    }
    return TimeSelfInline(&factory_->metrics().nanos,
                          [&] { return op_->ProcessBatch(std::move(batch), next_); });
  }

  Status EmitWatermark(Watermark wm) override {
    if (op_ == nullptr) {
      if (sink_->takes_result() && wm != kMaxWatermark) {
        ctx_->progress().RecordOutputWatermark(wm);
      }
      return sink_->ConsumeWatermark(ctx_, local_, wm);
    }
    return op_->ProcessWatermark(wm, next_);
  }

 private:
  ExecContext* ctx_;
  Operator* op_;
  OperatorFactory* factory_;
  Emitter* next_;
  Sink* sink_;
  LocalSinkState* local_;
};

// Counts the rows an operator emits (wraps the emitter it writes into).
class CountingEmitter : public Emitter {
 public:
  CountingEmitter(OperatorMetrics* metrics, Emitter* inner)
      : metrics_(metrics), inner_(inner) {}
  Status Emit(Batch batch) override {
    metrics_->rows_out += batch.data->num_rows();
    metrics_->batches_out += 1;
    return inner_->Emit(std::move(batch));
  }
  Status EmitWatermark(Watermark wm) override { return inner_->EmitWatermark(wm); }

 private:
  OperatorMetrics* metrics_;
  Emitter* inner_;
};

}  // namespace

Status TimeSelf(std::atomic<int64_t>* self_nanos, const std::function<Status()>& fn) {
  return TimeSelfInline(self_nanos, fn);
}

Status Executor::RunPipeline(
    const std::shared_ptr<Source>& source,
    const std::vector<std::shared_ptr<OperatorFactory>>& operators, size_t first_operator,
    const std::shared_ptr<Sink>& sink) {
  ARROW_RETURN_NOT_OK(source->Prepare(ctx_));
  const int64_t morsels = source->num_morsels();
  std::atomic<int64_t> next_morsel{0};
  int workers =
      static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(ctx_->threads(), morsels)));
  if (source->ordered() && sink->needs_order()) workers = 1;
  // A worker per morsel for streams of their own (an exchange's consumers) and for
  // unbounded splits, which never end: each must run at once.
  const bool per_worker = source->morsel_per_worker() || source->unbounded();
  if (per_worker) workers = static_cast<int>(std::max<int64_t>(1, morsels));
  const size_t n_ops = operators.size() - first_operator;
  // Drains below a streaming sink are pipelines it must wait for: announce them now,
  // each settled below (run, or WillRun with no workers).
  int may_drain = 0;
  for (size_t i = first_operator; i < operators.size(); ++i) {
    may_drain += operators[i]->MayDrain() ? 1 : 0;
  }
  if (may_drain > 0) sink->ExpectPipelines(may_drain);
  sink->WillRun(ctx_, workers);

  Status st = RunWorkers(workers, [&](int worker) -> Status {
    auto fail = [&](Status s) {
      ctx_->Cancel();
      return s;
    };
    auto made_local = sink->MakeLocal(ctx_, worker);
    if (!made_local.ok()) return fail(made_local.status());
    auto local = std::move(*made_local);
    std::vector<std::unique_ptr<Operator>> ops(n_ops);
    for (size_t i = 0; i < n_ops; ++i) {
      auto made = operators[first_operator + i]->Make(ctx_, worker);
      if (!made.ok()) return fail(made.status());
      ops[i] = std::move(*made);
    }
    // Build the chain back to front: emitters[i] feeds ops[i] (or the sink when i == n).
    std::vector<std::unique_ptr<Emitter>> emitters(n_ops + 1);
    std::vector<std::unique_ptr<Emitter>> counters(n_ops + 1);
    emitters[n_ops] = std::make_unique<ChainEmitter>(ctx_, nullptr, nullptr, nullptr,
                                                     sink.get(), local.get());
    for (size_t i = n_ops; i-- > 0;) {
      auto* factory = operators[first_operator + i].get();
      counters[i] =
          std::make_unique<CountingEmitter>(&factory->metrics(), emitters[i + 1].get());
      emitters[i] = std::make_unique<ChainEmitter>(
          ctx_, ops[i].get(), factory, counters[i].get(), sink.get(), local.get());
    }
    CountingEmitter source_out(&source->metrics(), emitters[0].get());
    bool took_own = false;
    while (!ctx_->cancelled()) {
      if (ctx_->interrupted()) return fail(Status::Cancelled("interrupted"));
      int64_t m;
      if (per_worker) {
        // A worker per morsel: worker i takes morsel i alone.
        if (took_own) break;
        took_own = true;
        m = worker;
      } else {
        m = next_morsel.fetch_add(1);
      }
      if (m >= morsels) break;
      Status s = TimeSelfInline(&source->metrics().nanos,
                                [&] { return source->Produce(ctx_, m, &source_out); });
      if (!s.ok()) return fail(s);
    }
    if (ctx_->cancelled()) return Status::Cancelled("cancelled");
    // End of input: a bounded source's final watermark, then Finish down the chain.
    Status s = source_out.EmitWatermark(kMaxWatermark);
    for (size_t i = 0; s.ok() && i < n_ops; ++i) s = ops[i]->Finish(counters[i].get());
    if (s.ok()) s = sink->FinishLocal(ctx_, std::move(local));
    if (!s.ok()) return fail(s);
    return Status::OK();
  });
  if (!st.ok()) {
    ctx_->Cancel();
    return st;
  }
  // Output that exists only once all input has been seen (a right/full join's
  // unmatched build rows): an operator drains when the last pipeline feeding it ends.
  // The drained rows run through the operators after it, which counts as one more
  // pipeline feeding those.
  for (size_t i = first_operator; i < operators.size(); ++i) {
    const bool may = operators[i]->MayDrain();
    std::shared_ptr<Source> drain;
    if (operators[i]->ClosePipeline() == 0) {
      auto d = operators[i]->DrainSource();
      if (!d.ok()) {
        ctx_->Cancel();
        return d.status();
      }
      drain = *d;
    }
    if (!drain) {
      if (may) sink->WillRun(ctx_, 0);  // the announced drain does not run
      continue;
    }
    for (size_t k = i + 1; k < operators.size(); ++k) operators[k]->AddPipeline();
    ARROW_RETURN_NOT_OK(RunPipeline(drain, operators, i + 1, sink));
  }
  return Status::OK();
}

Status Executor::Run(const std::vector<Pipeline>& pipelines) {
  // A job reading an unbounded source ends its input gracefully on a stop request; any
  // other job is cancelled by it (operator.h, base/interrupt.h).
  ctx_->set_streaming(
      std::any_of(pipelines.begin(), pipelines.end(),
                  [](const Pipeline& p) { return p.source->unbounded(); }));
  // How many pipelines feed each sink: finalize after the last one.
  std::map<Sink*, int> remaining;
  for (const auto& p : pipelines) remaining[p.sink.get()]++;
  // Pipelines feeding a streaming sink (an exchange) run on threads of their own, at
  // the same time as the pipeline that reads it (which comes later in the order).
  std::vector<std::thread> background;
  std::vector<Status> background_status;
  std::mutex status_mu;
  Status st;
  for (const auto& p : pipelines) {
    if (p.sink->streams()) {
      background.emplace_back([this, &p, &background_status, &status_mu] {
        Status s = RunPipeline(p.source, p.operators, 0, p.sink);
        if (!s.ok()) ctx_->Cancel();
        std::lock_guard<std::mutex> lock(status_mu);
        background_status.push_back(std::move(s));
      });
      continue;
    }
    st = RunPipeline(p.source, p.operators, 0, p.sink);
    if (!st.ok()) {
      ctx_->Cancel();
      break;
    }
    if (--remaining[p.sink.get()] == 0) {
      int64_t start = NowNanos();
      st = p.sink->Finalize(ctx_);
      p.sink->metrics().nanos += NowNanos() - start;
      if (!st.ok()) {
        ctx_->Cancel();
        break;
      }
    }
  }
  for (auto& t : background) t.join();
  // A stream that ended on the first stop signal has done what the signal asked.
  if (st.ok() && ctx_->streaming() && StopSignals() == 1) AcknowledgeStop();
  // The first real error: a pipeline stopped because another failed says Cancelled.
  for (const auto& s : background_status) {
    if (!s.ok() && (st.ok() || (st.IsCancelled() && !s.IsCancelled()))) st = s;
  }
  return st;
}

}  // namespace sluice::exec
