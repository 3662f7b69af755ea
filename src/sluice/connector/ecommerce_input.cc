#include "sluice/connector/ecommerce_input.h"

#include <arrow/compute/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "sluice/connector/event_time_input.h"
#include "sluice/connector/generator/ecommerce.h"

namespace sluice::connector {

namespace {

using generator::EcommerceOrders;

struct EcommerceInputOptions {
  double scale = 0.1;
  int64_t events = -2;  // -2: the data set's orders; -1: no end
  double rate = 0;
  int splits = 0;
  uint64_t seed = 42;
};

std::shared_ptr<arrow::Schema> StreamSchema() {
  auto fields = EcommerceOrders::Schema()->fields();
  fields.push_back(arrow::field("order_time", arrow::timestamp(arrow::TimeUnit::MICRO)));
  return arrow::schema(fields);
}

class EcommerceSource : public exec::Source {
 public:
  EcommerceSource(const EcommerceInputOptions& options,
                  std::shared_ptr<const EcommerceOrders> orders,
                  std::vector<int> projection, std::atomic<int64_t>* rows_read)
      : PhysicalNode("Scan ecommerce orders"),
        options_(options),
        orders_(std::move(orders)),
        projection_(std::move(projection)),
        rows_read_(rows_read) {}

  Status Prepare(exec::ExecContext* ctx) override {
    splits_ = options_.splits > 0 ? options_.splits : std::max(1, ctx->threads());
    watermarks_.Reset(splits_, std::numeric_limits<int64_t>::min());
    start_ = std::chrono::steady_clock::now();
    slice_ = std::max<int64_t>(1024, ctx->batch_rows());
    if (options_.rate > 0) {
      // A tenth of a second of the stream per batch.
      slice_ = std::clamp<int64_t>(static_cast<int64_t>(options_.rate / 10), 1, slice_);
    }
    return Status::OK();
  }
  int64_t num_morsels() const override { return splits_; }
  bool unbounded() const override { return options_.events == -1; }

  // Chunk c of the orders (a row group of the files) is split c % splits'; it goes out
  // in batches of at most slice_ rows, each followed by the split's watermark.
  Status Produce(exec::ExecContext* ctx, int64_t split, exec::Emitter* out) override {
    const int64_t total = options_.events == -1   ? std::numeric_limits<int64_t>::max()
                          : options_.events == -2 ? orders_->count()
                                                  : options_.events;
    int64_t seq = 0;
    for (int64_t c = split;; c += splits_) {
      const int64_t first = orders_->ChunkStart(c);
      if (first >= total || Stopped(ctx)) break;
      ARROW_ASSIGN_OR_RAISE(auto chunk, orders_->Chunk(c));
      const int64_t rows = std::min(chunk->num_rows(), total - first);
      // Nothing of this split comes before the chunk's first order: said at once, so
      // that a split waiting for its turn at a rate does not hold the others back.
      const auto& first_ts = static_cast<const arrow::Int64Array&>(*chunk->column(6));
      watermarks_.Set(static_cast<int>(split), first_ts.Value(0) * 1'000'000 - 1);
      ARROW_RETURN_NOT_OK(watermarks_.Emit(out));
      for (int64_t at = 0; at < rows && !Stopped(ctx); at += slice_) {
        if (ctx->cancelled()) return Status::Cancelled("cancelled");
        const int64_t n = std::min(slice_, rows - at);
        ARROW_RETURN_NOT_OK(WaitForRate(ctx, first + at));
        if (Stopped(ctx)) break;
        ARROW_ASSIGN_OR_RAISE(auto batch, WithTime(chunk->Slice(at, n), ctx));
        ARROW_ASSIGN_OR_RAISE(auto projected, batch->SelectColumns(projection_));
        *rows_read_ += n;
        ctx->progress().rows_read += n;
        ARROW_RETURN_NOT_OK(
            out->Emit(exec::Batch{projected, exec::MorselSeq(split, seq++)}));
        // This split's later orders come no earlier than its last one.
        const auto& ts = static_cast<const arrow::Int64Array&>(*batch->column(6));
        watermarks_.Set(static_cast<int>(split), ts.Value(n - 1) * 1'000'000 - 1);
        ARROW_RETURN_NOT_OK(watermarks_.Emit(out));
      }
    }
    watermarks_.End(static_cast<int>(split));
    return watermarks_.Emit(out);
  }

 private:
  bool Stopped(exec::ExecContext* ctx) const {
    return unbounded() && ctx->stop_requested();
  }

  // With a rate, order `index` does not go out before its time (waiting in slices: a
  // stop or cancel must not wait it out).
  Status WaitForRate(exec::ExecContext* ctx, int64_t index) const {
    if (options_.rate <= 0) return Status::OK();
    const auto due = start_ + std::chrono::microseconds(static_cast<int64_t>(
                                  static_cast<double>(index) / options_.rate * 1e6));
    while (std::chrono::steady_clock::now() < due && !ctx->stop_requested()) {
      if (ctx->cancelled()) return Status::Cancelled("cancelled");
      std::this_thread::sleep_until(std::min(
          due, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
    }
    return Status::OK();
  }

  // The orders with order_time (order_ts, seconds, as a timestamp) added.
  static Result<std::shared_ptr<arrow::RecordBatch>> WithTime(
      const std::shared_ptr<arrow::RecordBatch>& orders, exec::ExecContext* ctx) {
    const int64_t n = orders->num_rows();
    const auto& ts = static_cast<const arrow::Int64Array&>(*orders->column(6));
    arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::MICRO), ctx->pool());
    ARROW_RETURN_NOT_OK(times.Reserve(n));
    for (int64_t i = 0; i < n; ++i) times.UnsafeAppend(ts.Value(i) * 1'000'000);
    ARROW_ASSIGN_OR_RAISE(auto time_column, times.Finish());
    auto columns = orders->columns();
    columns.push_back(time_column);
    return arrow::RecordBatch::Make(StreamSchema(), n, std::move(columns));
  }

 private:
  EcommerceInputOptions options_;
  std::shared_ptr<const EcommerceOrders> orders_;
  std::vector<int> projection_;
  std::atomic<int64_t>* rows_read_;
  int splits_ = 1;
  int64_t slice_ = 65536;
  SplitWatermarks watermarks_;
  std::chrono::steady_clock::time_point start_;
};

class EcommerceInput : public InputTable {
 public:
  EcommerceInput(EcommerceInputOptions options,
                 std::shared_ptr<const EcommerceOrders> orders)
      : options_(options), orders_(std::move(orders)), schema_(StreamSchema()) {}

  std::string Describe() const override {
    return fmt::format("ecommerce orders (scale {}, {})", options_.scale,
                       options_.events == -1 ? std::string("no end")
                                             : fmt::format("{} orders", Total()));
  }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  int EventTimeColumn() const override { return schema_->GetFieldIndex("order_time"); }
  bool Unbounded() const override { return options_.events == -1; }
  std::optional<int64_t> EstimatedRows() const override {
    if (options_.events == -1) return std::nullopt;
    return Total();
  }
  int64_t rows_read() const override { return rows_read_.load(); }
  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection, const std::vector<expr::Expr>&) const override {
    return std::make_shared<EcommerceSource>(options_, orders_, projection, &rows_read_);
  }

 private:
  int64_t Total() const {
    return options_.events == -2 ? orders_->count() : options_.events;
  }
  EcommerceInputOptions options_;
  std::shared_ptr<const EcommerceOrders> orders_;
  std::shared_ptr<arrow::Schema> schema_;
  mutable std::atomic<int64_t> rows_read_{0};  // counted by the sources it makes
};

}  // namespace

Result<std::shared_ptr<InputTable>> OpenEcommerceInput(const SourceSpec& spec) {
  if (spec.path != "orders") {
    return Status::Invalid("source ", spec.name,
                           ": the ecommerce stream is 'orders' (the users and products "
                           "are files: sluice generate ecommerce)");
  }
  EcommerceInputOptions o;
  for (const auto& [k, v] : spec.options) {
    const std::string what = "source " + spec.name + ": option " + k;
    if (k == "scale") {
      ARROW_ASSIGN_OR_RAISE(o.scale, ParseNumberOption(k, v));
    } else if (k == "events") {
      ARROW_ASSIGN_OR_RAISE(o.events, ParseIntOption(k, v));
      if (o.events < -1) return Status::Invalid(what, ": a count, or -1 for no end");
    } else if (k == "rate") {
      ARROW_ASSIGN_OR_RAISE(o.rate, ParseNumberOption(k, v));
    } else if (k == "seed") {
      ARROW_ASSIGN_OR_RAISE(int64_t s, ParseIntOption(k, v));
      o.seed = static_cast<uint64_t>(s);
    } else if (k == "splits") {
      ARROW_ASSIGN_OR_RAISE(o.splits, ParseSplitsOption(k, v, what));
    } else {
      return Status::Invalid(
          "source ", spec.name, ": unknown option '", k,
          "' for format ecommerce (scale, events, rate, splits, seed)");
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto orders, EcommerceOrders::Make(o.scale, o.seed));
  return std::make_shared<EcommerceInput>(o, std::move(orders));
}

}  // namespace sluice::connector
