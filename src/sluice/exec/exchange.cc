#include "sluice/exec/exchange.h"

#include <chrono>

#include "sluice/exec/row_encoding.h"
#include "sluice/exec/take_rows.h"
#include "sluice/expr/eval.h"

namespace sluice::exec {

namespace {

struct ProducerState : LocalSinkState {
  int id = 0;
  std::vector<std::vector<int32_t>> rows;  // per consumer, reused
  std::vector<uint16_t> groups;
};

constexpr auto kPoll = std::chrono::milliseconds(50);

}  // namespace

Exchange::Exchange(std::vector<expr::Expr> keys, std::shared_ptr<arrow::Schema> schema)
    : PhysicalNode("Exchange"), keys_(std::move(keys)), schema_(std::move(schema)) {}

Status Exchange::KeyGroups(const arrow::ArrayVector& keys, int64_t n,
                           std::vector<uint16_t>* out) {
  EncodedRows rows;
  ARROW_RETURN_NOT_OK(EncodeRows(keys, &rows));
  out->resize(n);
  for (int64_t i = 0; i < n; ++i) {
    // The high bits: key indexes partition by the low ones.
    (*out)[i] = static_cast<uint16_t>((rows.hashes[i] >> 40) % kKeyGroups);
  }
  return Status::OK();
}

void Exchange::Setup(ExecContext* ctx) {
  if (consumers_ > 0) return;
  consumers_ = std::max(1, ctx->threads());
  for (int c = 0; c < consumers_; ++c) queues_.push_back(std::make_unique<Queue>());
}

void Exchange::WillRun(ExecContext* ctx, int workers) {
  std::lock_guard<std::mutex> lock(mu_);
  Setup(ctx);
  ++started_pipelines_;
  producers_ += workers;
  for (auto& q : queues_) q->readable.notify_all();
}

void Exchange::ExpectPipelines(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  feeding_pipelines_ += n;
}

Result<std::unique_ptr<LocalSinkState>> Exchange::MakeLocal(ExecContext* ctx,
                                                            int worker) {
  auto local = std::make_unique<ProducerState>();
  std::lock_guard<std::mutex> lock(mu_);
  Setup(ctx);
  local->id = next_producer_++;
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
  if (keys_.empty() || consumers_ == 1) {
    return Push(ctx, 0, Item{batch.data, local->id});
  }
  arrow::ArrayVector keys;
  for (const auto& k : keys_) {
    ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(k, *batch.data));
    keys.push_back(std::move(arr));
  }
  ARROW_RETURN_NOT_OK(KeyGroups(keys, n, &local->groups));
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
    ARROW_RETURN_NOT_OK(Push(ctx, c, Item{std::move(part), local->id}));
  }
  return Status::OK();
}

Status Exchange::ConsumeWatermark(ExecContext* ctx, LocalSinkState* local_base,
                                  Watermark wm) {
  auto* local = static_cast<ProducerState*>(local_base);
  for (int c = 0; c < consumers_; ++c) {
    ARROW_RETURN_NOT_OK(Push(ctx, c, Item{nullptr, local->id, wm, false}));
  }
  return Status::OK();
}

Status Exchange::FinishLocal(ExecContext* ctx,
                             std::unique_ptr<LocalSinkState> local_base) {
  auto* local = static_cast<ProducerState*>(local_base.get());
  for (int c = 0; c < consumers_; ++c) {
    ARROW_RETURN_NOT_OK(Push(ctx, c, Item{nullptr, local->id, kMaxWatermark, true}));
  }
  return Status::OK();
}

Status Exchange::Prepare(ExecContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  Setup(ctx);
  return Status::OK();
}

int64_t Exchange::num_morsels() const { return consumers_; }

Status Exchange::Produce(ExecContext* ctx, int64_t morsel, Emitter* out) {
  Queue& q = *queues_[morsel];
  std::vector<Watermark> marks;  // by producer
  std::vector<bool> ended;
  int ended_count = 0;
  Watermark emitted = std::numeric_limits<int64_t>::min();
  int64_t seq = 0;
  while (true) {
    Item item;
    int producers = 0;
    bool all_started = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (true) {
        producers = producers_;
        all_started = started_pipelines_ >= feeding_pipelines_;
        if (!q.items.empty()) break;
        if (all_started && ended_count == producers) return Status::OK();
        if (ctx->cancelled()) return Status::Cancelled("cancelled");
        q.readable.wait_for(lock, kPoll);
      }
      item = std::move(q.items.front());
      q.items.pop_front();
      q.writable.notify_one();
    }
    if (item.batch) {
      ARROW_RETURN_NOT_OK(
          out->Emit(Batch{std::move(item.batch), MorselSeq(morsel, seq++)}));
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
    // The minimum over every producer there will be: one not heard from yet (or of a
    // pipeline not started yet) holds it back.
    if (!all_started || static_cast<int>(marks.size()) < producers) continue;
    Watermark low = kMaxWatermark;
    for (int p = 0; p < producers; ++p) low = std::min(low, marks[p]);
    if (low > emitted && low != kMaxWatermark) {
      emitted = low;
      ARROW_RETURN_NOT_OK(out->EmitWatermark(low));
    }
  }
}

}  // namespace sluice::exec
