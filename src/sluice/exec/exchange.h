#pragma once
// A keyed exchange between pipelines that run at the same time (docs/design/
// streams.md): the producing pipelines end in it as a Sink, the consuming pipeline
// starts at it as a Source. Every row goes to the consumer worker that owns its key:
// the key's hash picks one of kKeyGroups key groups (state/key_groups.h), and consumer c
// of n owns the key groups KeyGroupRange::OfWorker(c, n). Without keys every row goes
// to consumer 0.
//
// Watermarks travel in-band: each producer's watermarks reach every consumer after the
// rows it sent before them, and a consumer emits the minimum over all producers (a
// producer that has not started holds it at its start; one that ended no longer holds
// it back). Queues are bounded (kQueueBatches batches per consumer): a producer whose
// consumer is behind waits, so a slow consumer slows the sources down instead of
// growing memory. Waits end when the run is cancelled.
//
// The executor runs the pipelines feeding an exchange on threads of their own, next to
// the pipeline reading it (pipeline.h).
//
// Ports: an exchange may have several inputs (a stream join's two sides). Each port has
// its own keys and its own producers (Port(p) is the Sink its pipelines end in; the
// exchange itself is port 0), and a consumer that reads through Read() sees each
// batch with its port and each port's own watermark, the minimum over that port's
// producers. Produce() (the plain Source) reads an exchange of one port.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/exec/state/key_groups.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class Exchange : public Sink, public Source {
 public:
  static constexpr size_t kQueueBatches = 16;

  /// `keys`: over the producers' batches.
  explicit Exchange(std::vector<expr::Expr> keys);
  /// An exchange with one input port per element of `keys` (each over its own
  /// producers' batches); keys of every port must hash alike for equal values (the
  /// same types).
  explicit Exchange(std::vector<std::vector<expr::Expr>> keys);

  /// The sink of port `port`'s pipelines (for port 0 the exchange itself serves too).
  std::shared_ptr<Sink> Port(int port);
  int ports() const { return static_cast<int>(keys_.size()); }
  /// One more pipeline will feed port `port` (the planner counts them).
  void AddFeedingPipeline(int port);

  /// What a consumer that tells the ports apart receives (Read).
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual Status OnBatch(int port, std::shared_ptr<arrow::RecordBatch> batch) = 0;
    /// The lowest watermark over the producers of `port` rose to `wm`; +infinity
    /// when every producer of the port has ended (the other ports may go on).
    virtual Status OnWatermark(int port, Watermark wm) = 0;
  };
  /// Consumer `consumer`'s items until every producer has ended.
  Status Read(ExecContext* ctx, int64_t consumer, Reader* reader);

  // Sink (producers of port 0).
  void AddFeedingPipeline() { AddFeedingPipeline(0); }
  void WillRun(ExecContext* ctx, int workers) override { WillRunPort(0, ctx, workers); }
  void ExpectPipelines(int n) override { ExpectPipelinesPort(0, n); }
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override {
    return MakeLocalPort(0, ctx);
  }
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override;
  Status ConsumeWatermark(ExecContext* ctx, LocalSinkState* local, Watermark wm) override;
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override;
  Status Finalize(ExecContext* ctx) override { return Status::OK(); }
  bool streams() const override { return true; }

  // Source (consumers: one morsel per consumer worker, running until every producer
  // has ended).
  Status Prepare(ExecContext* ctx) override;
  int64_t num_morsels() const override;
  bool morsel_per_worker() const override { return true; }
  Status Produce(ExecContext* ctx, int64_t morsel, Emitter* out) override;

 private:
  class PortSink;
  struct Item {
    std::shared_ptr<arrow::RecordBatch> batch;  // null: a watermark or the end
    int producer = 0;
    int port = 0;
    Watermark watermark = 0;
    bool end = false;
  };
  struct Queue {
    std::deque<Item> items;
    std::condition_variable readable;
    std::condition_variable writable;
  };
  void Setup(ExecContext* ctx);
  Status Push(ExecContext* ctx, int consumer, Item item);
  void WillRunPort(int port, ExecContext* ctx, int workers);
  void ExpectPipelinesPort(int port, int n);
  Result<std::unique_ptr<LocalSinkState>> MakeLocalPort(int port, ExecContext* ctx);

  std::vector<std::vector<expr::Expr>> keys_;      // by port
  std::vector<std::shared_ptr<Sink>> port_sinks_;  // by port
  std::mutex mu_;
  int consumers_ = 0;  // set by the first of WillRun/MakeLocal/Prepare
  std::vector<std::unique_ptr<Queue>> queues_;
  // By port, under mu_: pipelines the planner counted (and drains announced), those
  // started, and their workers (the port's producers).
  std::vector<int> feeding_pipelines_;
  std::vector<int> started_pipelines_;
  std::vector<int> port_producers_;
  std::vector<int> producer_port_;  // by producer id (MakeLocal numbers them)
};

}  // namespace sluice::exec
