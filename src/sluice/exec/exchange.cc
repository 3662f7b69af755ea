#include "sluice/exec/exchange.h"

#include <chrono>

#include "sluice/exec/row_encoding.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

struct ProducerState : LocalSinkState {
  int id = 0;
  int port = 0;
  std::vector<std::vector<int32_t>> rows;  // per consumer, reused
  std::vector<uint16_t> groups;
};

constexpr auto kPoll = std::chrono::milliseconds(50);

}  // namespace

// The sink of one port: forwards to the exchange with its number.
class Exchange::PortSink : public Sink {
 public:
  PortSink(Exchange* exchange, int port)
      : PhysicalNode("Exchange"), exchange_(exchange), port_(port) {}
  void WillRun(ExecContext* ctx, int workers) override {
    exchange_->WillRunPort(port_, ctx, workers);
  }
  void ExpectPipelines(int n) override { exchange_->ExpectPipelinesPort(port_, n); }
  Result<std::unique_ptr<LocalSinkState>> MakeLocal(ExecContext* ctx, int) override {
    return exchange_->MakeLocalPort(port_, ctx);
  }
  Status Consume(ExecContext* ctx, LocalSinkState* local, Batch batch) override {
    return exchange_->Consume(ctx, local, std::move(batch));
  }
  Status ConsumeWatermark(ExecContext* ctx, LocalSinkState* local,
                          Watermark wm) override {
    return exchange_->ConsumeWatermark(ctx, local, wm);
  }
  Status FinishLocal(ExecContext* ctx, std::unique_ptr<LocalSinkState> local) override {
    return exchange_->FinishLocal(ctx, std::move(local));
  }
  Status Finalize(ExecContext*) override { return Status::OK(); }
  bool streams() const override { return true; }

 private:
  Exchange* exchange_;
  int port_;
};

Exchange::Exchange(std::vector<expr::Expr> keys)
    : Exchange(std::vector<std::vector<expr::Expr>>{std::move(keys)}) {}

Exchange::Exchange(std::vector<std::vector<expr::Expr>> keys)
    : PhysicalNode("Exchange"),
      keys_(std::move(keys)),
      feeding_pipelines_(keys_.size(), 0),
      started_pipelines_(keys_.size(), 0),
      port_producers_(keys_.size(), 0) {
  for (int p = 0; p < ports(); ++p) {
    port_sinks_.push_back(std::make_shared<PortSink>(this, p));
  }
}

std::shared_ptr<Sink> Exchange::Port(int port) { return port_sinks_[port]; }

void Exchange::AddFeedingPipeline(int port) {
  std::lock_guard<std::mutex> lock(mu_);
  ++feeding_pipelines_[port];
}

void Exchange::Setup(ExecContext* ctx) {
  if (consumers_ > 0) return;
  consumers_ = std::max(1, ctx->threads());
  for (int c = 0; c < consumers_; ++c) queues_.push_back(std::make_unique<Queue>());
}

void Exchange::WillRunPort(int port, ExecContext* ctx, int workers) {
  std::lock_guard<std::mutex> lock(mu_);
  Setup(ctx);
  ++started_pipelines_[port];
  port_producers_[port] += workers;
  for (auto& q : queues_) q->readable.notify_all();
}

void Exchange::ExpectPipelinesPort(int port, int n) {
  std::lock_guard<std::mutex> lock(mu_);
  feeding_pipelines_[port] += n;
}

Result<std::unique_ptr<LocalSinkState>> Exchange::MakeLocalPort(int port,
                                                                ExecContext* ctx) {
  auto local = std::make_unique<ProducerState>();
  std::lock_guard<std::mutex> lock(mu_);
  Setup(ctx);
  local->id = static_cast<int>(producer_port_.size());
  local->port = port;
  producer_port_.push_back(port);
  local->rows.resize(consumers_);
  return local;
}

Status Exchange::Push(ExecContext* ctx, int consumer, Item item) {
  Queue& q = *queues_[consumer];
  std::unique_lock<std::mutex> lock(mu_);
  while (q.items.size() >= kQueueBatches && item.batch) {
    if (ctx->cancelled()) return Status::Cancelled("cancelled");
    q.writable.wait_for(lock, kPoll);
  }
  q.items.push_back(std::move(item));
  q.readable.notify_one();
  return Status::OK();
}

Status Exchange::Consume(ExecContext* ctx, LocalSinkState* local_base, Batch batch) {
  auto* local = static_cast<ProducerState*>(local_base);
  const int64_t n = batch.data->num_rows();
  if (n == 0) return Status::OK();
  const auto& key_exprs = keys_[local->port];
  if (key_exprs.empty() || consumers_ == 1) {
    return Push(ctx, 0, Item{batch.data, local->id, local->port});
  }
  arrow::ArrayVector keys;
  for (const auto& k : key_exprs) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, *batch.data));
    keys.push_back(std::move(arr));
  }
  ARROW_RETURN_NOT_OK(KeyGroupsOf(keys, n, &local->groups));
  for (auto& r : local->rows) r.clear();
  for (int64_t i = 0; i < n; ++i) {
    int c = local->groups[i] * consumers_ / kKeyGroups;
    local->rows[c].push_back(static_cast<int32_t>(i));
  }
  for (int c = 0; c < consumers_; ++c) {
    const auto& r = local->rows[c];
    if (r.empty()) continue;
    std::shared_ptr<arrow::RecordBatch> part = batch.data;
    if (static_cast<int64_t>(r.size()) != n) {
      ARROW_ASSIGN_OR_RAISE(
          part, TakeBatchRows(batch.data, r.data(), static_cast<int64_t>(r.size()),
                              ctx->pool()));
    }
    ARROW_RETURN_NOT_OK(Push(ctx, c, Item{std::move(part), local->id, local->port}));
  }
  return Status::OK();
}

Status Exchange::ConsumeWatermark(ExecContext* ctx, LocalSinkState* local_base,
                                  Watermark wm) {
  auto* local = static_cast<ProducerState*>(local_base);
  for (int c = 0; c < consumers_; ++c) {
    ARROW_RETURN_NOT_OK(Push(ctx, c, Item{nullptr, local->id, local->port, wm, false}));
  }
  return Status::OK();
}

Status Exchange::FinishLocal(ExecContext* ctx,
                             std::unique_ptr<LocalSinkState> local_base) {
  auto* local = static_cast<ProducerState*>(local_base.get());
  for (int c = 0; c < consumers_; ++c) {
    ARROW_RETURN_NOT_OK(
        Push(ctx, c, Item{nullptr, local->id, local->port, kMaxWatermark, true}));
  }
  return Status::OK();
}

Status Exchange::Prepare(ExecContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  Setup(ctx);
  return Status::OK();
}

int64_t Exchange::num_morsels() const { return consumers_; }

namespace {

// Produce's reader: batches on, and the watermark of the only port.
class ForwardingReader : public Exchange::Reader {
 public:
  ForwardingReader(int64_t morsel, Emitter* out) : morsel_(morsel), out_(out) {}
  Status OnBatch(int, std::shared_ptr<arrow::RecordBatch> batch) override {
    return out_->Emit(Batch{std::move(batch), MorselSeq(morsel_, seq_++)});
  }
  // The end's +infinity is the executor's to send, after Produce.
  Status OnWatermark(int, Watermark wm) override {
    return wm == kMaxWatermark ? Status::OK() : out_->EmitWatermark(wm);
  }

 private:
  int64_t morsel_;
  Emitter* out_;
  int64_t seq_ = 0;
};

}  // namespace

Status Exchange::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  if (ports() != 1) {
    return Status::Invalid("internal: an exchange with ", ports(),
                           " ports read as one stream");
  }
  ForwardingReader reader(morsel, out);
  return Read(ctx, morsel, &reader);
}

Status Exchange::Read(ExecContext* ctx, int64_t consumer, Reader* reader) {
  Queue& q = *queues_[consumer];
  const int n_ports = ports();
  std::vector<Watermark> marks;  // by producer
  std::vector<bool> ended;
  int ended_count = 0;
  std::vector<Watermark> emitted(n_ports, std::numeric_limits<int64_t>::min());
  while (true) {
    Item item;
    std::vector<int> producer_port;
    int port_producers = 0;
    bool all_started = true;   // every pipeline of every port
    bool port_started = true;  // every pipeline of the item's port
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (true) {
        all_started = true;
        for (int p = 0; p < n_ports; ++p) {
          all_started = all_started && started_pipelines_[p] >= feeding_pipelines_[p];
        }
        int producers = 0;
        for (int p = 0; p < n_ports; ++p) producers += port_producers_[p];
        if (!q.items.empty()) break;
        if (all_started && ended_count == producers) return Status::OK();
        if (ctx->cancelled()) return Status::Cancelled("cancelled");
        q.readable.wait_for(lock, kPoll);
      }
      item = std::move(q.items.front());
      q.items.pop_front();
      q.writable.notify_one();
      if (!item.batch) {
        producer_port = producer_port_;
        port_producers = port_producers_[item.port];
        port_started = started_pipelines_[item.port] >= feeding_pipelines_[item.port];
      }
    }
    if (item.batch) {
      ARROW_RETURN_NOT_OK(reader->OnBatch(item.port, std::move(item.batch)));
      continue;
    }
    if (static_cast<int>(marks.size()) <= item.producer) {
      marks.resize(item.producer + 1, std::numeric_limits<int64_t>::min());
      ended.resize(item.producer + 1, false);
    }
    marks[item.producer] = std::max(marks[item.producer], item.watermark);
    if (item.end && !ended[item.producer]) {
      ended[item.producer] = true;
      ++ended_count;
    }
    // The minimum over every producer the port will have: one not heard from yet (or
    // of a pipeline not started yet) holds it back.
    if (!port_started) continue;
    const int port = item.port;
    Watermark low = kMaxWatermark;
    int heard = 0;
    for (size_t p = 0; p < producer_port.size(); ++p) {
      if (producer_port[p] != port) continue;
      if (p < marks.size() && marks[p] != std::numeric_limits<int64_t>::min()) ++heard;
      low = std::min(low,
                     p < marks.size() ? marks[p] : std::numeric_limits<int64_t>::min());
    }
    if (heard < port_producers) continue;
    // +infinity: every producer of the port ended (its pipelines all started).
    if (low > emitted[port]) {
      emitted[port] = low;
      ARROW_RETURN_NOT_OK(reader->OnWatermark(port, low));
    }
  }
}

}  // namespace sluice::exec
