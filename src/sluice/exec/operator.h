#pragma once
// The physical operator interface, shared by batch and stream execution.
//
// A plan runs as pipelines (pipeline.h): a Source, a chain of streaming Operators and
// a Sink. Worker threads take morsels from the source and push each morsel's batches
// through their own instances of the operators into their own local state of the sink.
//
// Everything travels in-band and in order along a chain: data batches, watermarks
// (event-time progress; a bounded source ends with kMaxWatermark) and end of input
// (Finish). A later issue adds checkpoint barriers on the same path. Operators that
// buffer (a window, a join state) react to watermarks; stateless ones only implement
// ProcessBatch.
//
// Lifecycle of an Operator instance (one per worker and pipeline run):
//   Make -> ProcessBatch/ProcessWatermark (any number, one thread) -> Finish -> destroy.
// Lifecycle of a Sink: MakeLocal per worker -> Consume (that worker's thread) ->
//   FinishLocal (merges into the shared state; may run concurrently with other workers'
//   FinishLocal, so it must synchronise) -> Finalize once, after every pipeline feeding
//   the sink has finished.
#include <arrow/record_batch.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/exec/exec_context.h"

namespace sluice::exec {

/// Event time progress, in microseconds since the epoch.
using Watermark = int64_t;
constexpr Watermark kMaxWatermark = std::numeric_limits<int64_t>::max();

/// A batch and its position in the stream. `seq` orders batches when order matters
/// (after a sort): sources number them morsel-major (MorselSeq), operators that map
/// one batch to one batch keep it.
struct Batch {
  std::shared_ptr<arrow::RecordBatch> data;
  int64_t seq = 0;
};

constexpr int64_t MorselSeq(int64_t morsel, int64_t batch_in_morsel) {
  return (morsel << 24) | batch_in_morsel;
}

/// Where an operator sends its output: the next operator or the sink.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual Status Emit(Batch batch) = 0;
  virtual Status EmitWatermark(Watermark watermark) = 0;
};

/// Counters every physical operator keeps, for EXPLAIN ANALYZE and progress.
struct OperatorMetrics {
  std::atomic<int64_t> rows_out{0};
  std::atomic<int64_t> batches_out{0};
  std::atomic<int64_t> nanos{0};  // time inside the operator, summed over workers
  std::atomic<int64_t> peak_memory{0};
  std::atomic<int64_t> spilled_bytes{0};  // written to spill files
  void RecordPeak(int64_t bytes) {
    int64_t p = peak_memory.load();
    while (bytes > p && !peak_memory.compare_exchange_weak(p, bytes)) {
    }
  }
};

/// Name and plan node of a physical operator (for errors, memory owners and EXPLAIN).
class PhysicalNode {
 public:
  explicit PhysicalNode(std::string name) : name_(std::move(name)) {}
  virtual ~PhysicalNode() = default;
  const std::string& name() const { return name_; }
  int plan_id() const { return plan_id_; }
  void set_plan_id(int id) { plan_id_ = id; }
  OperatorMetrics& metrics() { return metrics_; }

 private:
  std::string name_;
  int plan_id_ = -1;
  OperatorMetrics metrics_;
};

/// A streaming operator instance (one per worker).
class Operator {
 public:
  virtual ~Operator() = default;
  virtual Status ProcessBatch(Batch batch, Emitter* out) = 0;
  /// Default: forward the watermark.
  virtual Status ProcessWatermark(Watermark watermark, Emitter* out) {
    return out->EmitWatermark(watermark);
  }
  /// End of this worker's input: emit anything still buffered.
  virtual Status Finish(Emitter* out) { return Status::OK(); }
};

class Source;
class FilterFactory;
class ProbeKeyFilter;

/// Creates the per-worker instances of a streaming operator and holds what they share.
class OperatorFactory : public PhysicalNode {
 public:
  using PhysicalNode::PhysicalNode;
  virtual Result<std::unique_ptr<Operator>> Make(ExecContext* ctx, int worker) = 0;
  /// After every worker has finished: extra output that exists only once all input has
  /// been seen (a right/full join's unmatched build rows), pushed through the rest of
  /// the pipeline. Null if none.
  virtual Result<std::shared_ptr<Source>> DrainSource() { return nullptr; }
  /// Whether DrainSource may return a source (known before the run: a streaming sink
  /// downstream must wait for that extra pipeline).
  virtual bool MayDrain() const { return false; }

  /// How many pipelines feed this operator (set by the physical planner; the executor
  /// drains the operator when the last one has finished).
  void AddPipeline() { open_pipelines_.fetch_add(1); }
  /// Marks one feeding pipeline finished; returns how many are still open.
  int ClosePipeline() { return open_pipelines_.fetch_sub(1) - 1; }

 private:
  std::atomic<int> open_pipelines_{0};
};

/// Produces a pipeline's input, split into morsels that workers take independently.
class Source : public virtual PhysicalNode {
 public:
  Source() : PhysicalNode("source") {}
  /// Called once before the pipeline runs (after the pipelines it depends on finished).
  virtual Status Prepare(ExecContext* ctx) = 0;
  /// Number of morsels (valid after Prepare).
  virtual int64_t num_morsels() const = 0;
  /// Emits the batches of one morsel (seq = MorselSeq(morsel, i)). Called concurrently
  /// for different morsels.
  virtual Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) = 0;
  /// Estimated bytes/rows of all morsels for progress (0 if unknown).
  virtual int64_t EstimatedBytes() const { return 0; }
  /// True when morsel order is the data's order (the output of a sort or limit).
  virtual bool ordered() const { return false; }
  /// True for a stream without end (Kafka to no end offset, a generator without an
  /// event count): it ends its input itself when a stop is requested
  /// (ExecContext::stop_requested). A bounded source's run is cancelled instead.
  virtual bool unbounded() const { return false; }
  /// True when each morsel is a stream of its own that must reach operator instances
  /// of its own (an exchange's consumers: after one morsel's rows a worker's window
  /// operator has seen that stream's watermarks, and another morsel's rows would be
  /// late there). The executor then runs one worker per morsel, worker i on morsel i.
  virtual bool morsel_per_worker() const { return false; }
  /// Output columns (string or binary) that may come dictionary-encoded
  /// (dictionary<int32, T>, the batch's schema saying so) instead of as T, because the
  /// one consumer handles both (a hash aggregate grouping by them). Called before
  /// Prepare; sources that never produce dictionaries ignore it.
  virtual void AllowDictionaryColumns(const std::vector<int>& columns) {}
  /// Offers the filter that comes first after this source in its pipeline (over this
  /// source's columns): a source that takes it (returns true) emits only the rows it
  /// keeps, as the filter would have emitted them, and the pipeline runs without it.
  /// A Parquet scan reads the filter's columns first and the others only at the kept
  /// rows. Called after AllowDictionaryColumns, before Prepare.
  virtual bool TakeFilter(const std::shared_ptr<FilterFactory>& filter) { return false; }
  /// Offers the key filter of the join that comes first after this source (and its
  /// taken filter, if any): a source that takes it (returns true) may leave out the
  /// rows whose keys the join's build side does not hold, reading its other columns
  /// only for the rest. The join still runs. Called after TakeFilter, before Prepare;
  /// the filter is used only once the build side is finished.
  virtual bool TakeKeyFilter(const std::shared_ptr<ProbeKeyFilter>& filter) {
    return false;
  }
};

class LocalSinkState {
 public:
  virtual ~LocalSinkState() = default;
};

/// The end of a pipeline: a breaker (aggregate, join build, sort) or a result.
class Sink : public virtual PhysicalNode {
 public:
  Sink() : PhysicalNode("sink") {}
  virtual Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                            int worker) = 0;
  virtual Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) = 0;
  virtual Status ConsumeWatermark(ExecContext* ctx, LocalSinkState* local, Watermark wm) {
    return Status::OK();
  }
  virtual Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) = 0;
  virtual Status Finalize(ExecContext* ctx) = 0;
  /// True when the sink must see ordered input in order (a single output file): the
  /// executor then runs an ordered source's pipeline on one worker.
  virtual bool needs_order() const { return false; }
  /// True when the sink hands rows on while they arrive, to a pipeline that runs at the
  /// same time (an exchange): the executor runs the pipelines feeding it on threads of
  /// their own (pipeline.h).
  virtual bool streams() const { return false; }
  /// Called once per pipeline feeding the sink, before its `workers` workers start
  /// (0 workers: a pipeline announced by ExpectPipelines that does not run after all).
  virtual void WillRun(ExecContext* ctx, int workers) {}
  /// `n` more pipelines will feed the sink than the planner counted (the drains of
  /// operators that MayDrain): each is settled by a WillRun.
  virtual void ExpectPipelines(int n) {}
  /// Whether the sink takes an updating result: upserts keyed by its input columns
  /// `key_columns`, the latest row of a key replacing the ones before
  /// (operators/updating_aggregate.h). OK, or why not; by default a sink takes
  /// appended rows only.
  virtual Status TakeUpdates(const std::vector<int>& key_columns) const {
    return Status::Invalid(
        "this query's result updates (a GROUP BY without windows over an unbounded "
        "stream changes a key's row as rows arrive), and ",
        what_it_writes(),
        " takes appended rows only: group by window_start/window_end of TUMBLE, HOP or "
        "SESSION for rows that are final, or write it to Kafka keyed by the GROUP BY "
        "column (upserts)");
  }
  /// What the sink writes to, for messages ("the output file", "a Kafka topic").
  virtual std::string what_it_writes() const { return "the result"; }
  /// True for a sink that receives the job's result (a file, a topic, the rows of a
  /// query), not an operator's input (a join's build side, an aggregate): its rows
  /// count as "out" in the live status.
  virtual bool takes_result() const { return false; }
};

}  // namespace sluice::exec
