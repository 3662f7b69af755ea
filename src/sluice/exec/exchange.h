#pragma once
// A keyed exchange between pipelines that run at the same time (docs/design/
// streams.md): the producing pipelines end in it as a Sink, the consuming pipeline
// starts at it as a Source. Every row goes to the consumer worker that owns its key:
// the key's hash picks one of kKeyGroups key groups, and consumer c of n owns the key
// groups [c * kKeyGroups / n, (c + 1) * kKeyGroups / n). Without keys every row goes to
// consumer 0.
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
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "sluice/exec/operator.h"
#include "sluice/expr/expr.h"

namespace sluice::exec {

class Exchange : public Sink, public Source {
 public:
  static constexpr int kKeyGroups = 128;
  static constexpr size_t kQueueBatches = 16;

  /// `keys`: over the producers' batches (of `schema`).
  Exchange(std::vector<expr::Expr> keys, std::shared_ptr<arrow::Schema> schema);

  /// The key group of every row of `keys` (key columns of one batch) into *out.
  static Status KeyGroups(const arrow::ArrayVector& keys, int64_t n,
                          std::vector<uint16_t>* out);

  // Sink (producers).
  void AddFeedingPipeline() { ++feeding_pipelines_; }
  void WillRun(ExecContext* ctx, int workers) override;
  void ExpectPipelines(int n) override;
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx,
                                                    int worker) override;
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
  struct Item {
    std::shared_ptr<arrow::RecordBatch> batch;  // null: a watermark or the end
    int producer = 0;
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

  std::vector<expr::Expr> keys_;
  std::shared_ptr<arrow::Schema> schema_;
  std::mutex mu_;
  int consumers_ = 0;  // set by the first of WillRun/MakeLocal/Prepare
  std::vector<std::unique_ptr<Queue>> queues_;
  int feeding_pipelines_ = 0;
  int started_pipelines_ = 0;  // under mu_
  int producers_ = 0;          // workers of the started pipelines, under mu_
  int next_producer_ = 0;      // MakeLocal numbers the producers, under mu_
};

}  // namespace sluice::exec
