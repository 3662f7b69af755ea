#include "sluice/connector/nexmark_input.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "sluice/base/duration.h"
#include "sluice/connector/event_time_input.h"

namespace sluice::connector {

namespace {

using generator::NexmarkGenerator;

class NexmarkSource : public exec::Source {
 public:
  NexmarkSource(const NexmarkInputOptions& options,
                std::shared_ptr<const NexmarkGenerator> gen, std::vector<int> projection,
                std::atomic<int64_t>* rows_read)
      : PhysicalNode(fmt::format("Scan nexmark {}", NexmarkTableName(options.table))),
        options_(options),
        gen_(std::move(gen)),
        projection_(std::move(projection)),
        rows_read_(rows_read) {
    for (int i = 0; i < generator::NexmarkSchema(options.table)->num_fields(); ++i) {
      all_.push_back(i);
    }
  }

  Status Prepare(exec::ExecContext* ctx) override {
    splits_ = options_.splits > 0 ? options_.splits : std::max(1, ctx->threads());
    // Before a split starts, nothing earlier than its first event comes from it (with
    // bounded watermarks: nothing is known until it has rows).
    watermarks_.Reset(splits_, std::numeric_limits<int64_t>::min());
    if (options_.watermark_bound_us < 0) {
      for (int s = 0; s < splits_; ++s) watermarks_.Set(s, gen_->LowestTimeFrom(s) - 1);
    }
    start_ = std::chrono::steady_clock::now();
    batches_ = std::vector<std::atomic<int64_t>>(splits_);
    // With more splits than threads some wait for a thread: no keeping in step then.
    aligned_ = splits_ > 1 && splits_ <= ctx->threads();
    return Status::OK();
  }
  int64_t num_morsels() const override { return splits_; }
  bool unbounded() const override { return options_.events < 0; }

  Status Produce(exec::ExecContext* ctx, int64_t split, exec::Emitter* out) override {
    const int64_t end =
        options_.events < 0 ? std::numeric_limits<int64_t>::max() : options_.events;
    const int64_t stride = splits_;
    // Event numbers per batch (this split's): a batch of rows, or a tenth of a second
    // of a rate-limited stream.
    const double split_rate = options_.rate > 0 ? options_.rate / splits_ : 0;
    int64_t per_batch = std::max<int64_t>(1024, ctx->batch_rows());
    if (split_rate > 0) {
      per_batch =
          std::clamp<int64_t>(static_cast<int64_t>(split_rate / 10), 1, per_batch);
    }
    int64_t seq = 0;
    int64_t done = 0;                                      // this split's events so far
    int64_t newest = std::numeric_limits<int64_t>::min();  // bounded watermarks
    for (int64_t n = split; n < end; ++batches_[split]) {
      if (unbounded() && ctx->stop_requested()) break;  // a graceful stop ends the input
      ARROW_RETURN_NOT_OK(WaitForOthers(ctx, split));
      if (split_rate > 0) {
        auto due = start_ + std::chrono::microseconds(
                                static_cast<int64_t>(done / split_rate * 1e6));
        // In slices: a stop or cancel must not wait out a slow rate.
        while (std::chrono::steady_clock::now() < due) {
          if (ctx->cancelled()) return Status::Cancelled("cancelled");
          if (ctx->stop_requested()) break;
          std::this_thread::sleep_until(std::min(
              due, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
        }
        if (unbounded() && ctx->stop_requested()) break;
      }
      // This split's numbers left below end (end may be the largest int64).
      const int64_t count = std::min<int64_t>(per_batch, (end - 1 - n) / stride + 1);
      const int64_t next = n + count * stride;
      ARROW_ASSIGN_OR_RAISE(
          auto batch,
          gen_->Generate(options_.table, n, next, stride,
                         options_.all_columns ? all_ : projection_, ctx->pool()));
      if (options_.all_columns) {
        ARROW_ASSIGN_OR_RAISE(batch, batch->SelectColumns(projection_));
      }
      if (options_.watermark_bound_us >= 0) {
        for (int64_t k = n; k < next; k += stride) {
          if (gen_->TableOf(k) == options_.table)
            newest = std::max(newest, gen_->EventTimeOf(k));
        }
      }
      done += count;
      n = next;
      if (batch->num_rows() > 0) {
        *rows_read_ += batch->num_rows();
        ctx->progress().rows_read += batch->num_rows();
        ARROW_RETURN_NOT_OK(out->Emit(exec::Batch{batch, exec::MorselSeq(split, seq++)}));
      }
      if (n >= end) {
        watermarks_.End(static_cast<int>(split));
      } else if (options_.watermark_bound_us < 0) {
        watermarks_.Set(static_cast<int>(split), gen_->LowestTimeFrom(n) - 1);
      } else if (newest != std::numeric_limits<int64_t>::min()) {
        watermarks_.Set(static_cast<int>(split),
                        BoundedWatermark(newest, options_.watermark_bound_us));
      }
      ARROW_RETURN_NOT_OK(watermarks_.Emit(out));
    }
    watermarks_.End(static_cast<int>(split));
    batches_[split] = std::numeric_limits<int64_t>::max();
    return watermarks_.Emit(out);
  }

 private:
  // Splits that all run at once keep in step: a split starts its next batch only once
  // every other has made the batch before it. Each batch covers the same span of event
  // numbers, so no split's events run far ahead of the watermark the slowest one holds
  // back (their lateness would then depend on thread scheduling).
  Status WaitForOthers(exec::ExecContext* ctx, int64_t split) {
    if (!aligned_)
      return ctx->cancelled() ? Status::Cancelled("cancelled") : Status::OK();
    const int64_t mine = batches_[split].load();
    while (true) {
      if (ctx->cancelled()) return Status::Cancelled("cancelled");
      if (ctx->stop_requested()) return Status::OK();
      bool behind = false;
      for (int s = 0; s < splits_ && !behind; ++s) behind = batches_[s].load() < mine - 1;
      if (!behind) return Status::OK();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  NexmarkInputOptions options_;
  std::shared_ptr<const NexmarkGenerator> gen_;
  std::vector<int> projection_;
  std::vector<int> all_;  // every column
  std::atomic<int64_t>* rows_read_;
  int splits_ = 1;
  SplitWatermarks watermarks_;  // the lowest time still to come from any split
  std::vector<std::atomic<int64_t>> batches_;  // started so far, by split
  bool aligned_ = false;
  std::chrono::steady_clock::time_point start_;
};

class NexmarkInput : public InputTable {
 public:
  explicit NexmarkInput(NexmarkInputOptions options)
      : options_(options),
        gen_(std::make_shared<NexmarkGenerator>(options.generator)),
        schema_(generator::NexmarkSchema(options.table)) {}

  std::string Describe() const override {
    std::string events =
        options_.events < 0 ? "no end" : fmt::format("{} events", options_.events);
    return fmt::format("nexmark {} ({})", NexmarkTableName(options_.table), events);
  }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  int EventTimeColumn() const override { return schema_->GetFieldIndex("date_time"); }
  bool Unbounded() const override { return options_.events < 0; }
  std::optional<int64_t> EstimatedRows() const override {
    if (options_.events < 0) return std::nullopt;
    const int64_t share = options_.table == generator::NexmarkTable::kPerson    ? 1
                          : options_.table == generator::NexmarkTable::kAuction ? 3
                                                                                : 46;
    return options_.events / 50 * share;
  }
  int64_t rows_read() const override { return rows_read_.load(); }
  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection, const std::vector<expr::Expr>&) const override {
    return std::make_shared<NexmarkSource>(options_, gen_, projection, &rows_read_);
  }

 private:
  NexmarkInputOptions options_;
  std::shared_ptr<const NexmarkGenerator> gen_;
  std::shared_ptr<arrow::Schema> schema_;
  mutable std::atomic<int64_t> rows_read_{0};  // counted by the sources it makes
};

}  // namespace

std::shared_ptr<InputTable> MakeNexmarkInput(NexmarkInputOptions options) {
  return std::make_shared<NexmarkInput>(options);
}

Result<std::shared_ptr<InputTable>> OpenNexmarkInput(const SourceSpec& spec) {
  NexmarkInputOptions o;
  ARROW_ASSIGN_OR_RAISE(o.table, generator::ParseNexmarkTable(spec.path));
  for (const auto& [k, v] : spec.options) {
    const std::string what = "source " + spec.name + ": option " + k;
    if (k == "events") {
      ARROW_ASSIGN_OR_RAISE(o.events, ParseIntOption(k, v));
    } else if (k == "rate") {
      ARROW_ASSIGN_OR_RAISE(o.rate, ParseNumberOption(k, v));
    } else if (k == "event_rate") {
      ARROW_ASSIGN_OR_RAISE(double r, ParseNumberOption(k, v));
      if (r <= 0 || r > 1e6) {
        return Status::Invalid(what, ": between 0 and 1000000 events per second");
      }
      o.generator.inter_event_us = std::max<int64_t>(1, std::llround(1e6 / r));
    } else if (k == "seed") {
      ARROW_ASSIGN_OR_RAISE(int64_t s, ParseIntOption(k, v));
      o.generator.seed = static_cast<uint64_t>(s);
    } else if (k == "out_of_order_group") {
      ARROW_ASSIGN_OR_RAISE(o.generator.out_of_order_group, ParseIntOption(k, v));
      if (o.generator.out_of_order_group < 1) {
        return Status::Invalid(what, " must be at least 1");
      }
    } else if (k == "delayed_fraction") {
      ARROW_ASSIGN_OR_RAISE(o.generator.delayed_fraction, ParseNumberOption(k, v));
      if (o.generator.delayed_fraction > 1) {
        return Status::Invalid(what, " must be between 0 and 1");
      }
    } else if (k == "delay") {
      ARROW_ASSIGN_OR_RAISE(o.generator.delay_us, ParseDurationMicros(v, what));
    } else if (k == "all_columns") {
      ARROW_ASSIGN_OR_RAISE(o.all_columns, ParseBoolOption(k, v));
    } else if (k == "watermark") {
      ARROW_ASSIGN_OR_RAISE(o.watermark_bound_us, ParseDurationMicros(v, what));
    } else if (k == "splits") {
      ARROW_ASSIGN_OR_RAISE(o.splits, ParseSplitsOption(k, v, what));
    } else {
      return Status::Invalid(
          "source ", spec.name, ": unknown option '", k,
          "' for format nexmark (events, rate, event_rate, seed, "
          "out_of_order_group, delayed_fraction, delay, watermark, splits, "
          "all_columns)");
    }
  }
  return MakeNexmarkInput(o);
}

}  // namespace sluice::connector
