#include "sluice/connector/event_time_input.h"

#include <algorithm>

#include "sluice/exec/operators/time_window.h"

namespace sluice::connector {

namespace {

// Passes the inner source's batches on (without the time column when only the
// watermarks needed it), following each with the watermark when it advanced.
class WatermarkEmitter : public exec::Emitter {
 public:
  WatermarkEmitter(exec::Emitter* out, int time_index, bool drop_time, int64_t bound_us)
      : out_(out), time_index_(time_index), drop_time_(drop_time), bound_us_(bound_us) {}

  Status Emit(exec::Batch batch) override {
    max_ = NewestMicros(*batch.data->column(time_index_), max_);
    std::shared_ptr<arrow::RecordBatch> data = batch.data;
    if (drop_time_) {
      ARROW_ASSIGN_OR_RAISE(data, data->RemoveColumn(time_index_));
    }
    ARROW_RETURN_NOT_OK(
        out_->Emit(exec::Batch{std::move(data), exec::MorselSeq(0, seq_++)}));
    if (max_ == std::numeric_limits<int64_t>::min()) return Status::OK();
    const int64_t wm = BoundedWatermark(max_, bound_us_);
    if (wm <= emitted_) return Status::OK();
    emitted_ = wm;
    return out_->EmitWatermark(wm);
  }
  // File sources have no watermarks of their own.
  Status EmitWatermark(exec::Watermark) override { return Status::OK(); }

 private:
  exec::Emitter* out_;
  int time_index_;
  bool drop_time_;
  int64_t bound_us_;
  int64_t max_ = std::numeric_limits<int64_t>::min();
  int64_t emitted_ = std::numeric_limits<int64_t>::min();
  int64_t seq_ = 0;
};

class EventTimeSource : public exec::Source {
 public:
  EventTimeSource(std::shared_ptr<exec::Source> inner, int time_index, bool drop_time,
                  int64_t bound_us)
      : PhysicalNode(inner->name()),
        inner_(std::move(inner)),
        time_index_(time_index),
        drop_time_(drop_time),
        bound_us_(bound_us) {}

  Status Prepare(exec::ExecContext* ctx) override { return inner_->Prepare(ctx); }
  int64_t num_morsels() const override { return 1; }
  int64_t EstimatedBytes() const override { return inner_->EstimatedBytes(); }
  bool ordered() const override { return true; }
  Status Produce(exec::ExecContext* ctx, int64_t, exec::Emitter* out) override {
    WatermarkEmitter tracker(out, time_index_, drop_time_, bound_us_);
    for (int64_t m = 0; m < inner_->num_morsels(); ++m) {
      if (ctx->cancelled()) return Status::Cancelled("cancelled");
      ARROW_RETURN_NOT_OK(inner_->Produce(ctx, m, &tracker));
    }
    return Status::OK();
  }

 private:
  std::shared_ptr<exec::Source> inner_;
  int time_index_;
  bool drop_time_;
  int64_t bound_us_;
};

class EventTimeInput : public InputTable {
 public:
  EventTimeInput(std::shared_ptr<InputTable> inner, int time_column, int64_t bound_us)
      : inner_(std::move(inner)), time_column_(time_column), bound_us_(bound_us) {}

  std::string Describe() const override {
    return inner_->Describe() + " (event time " +
           inner_->schema()->field(time_column_)->name() + ", in order)";
  }
  std::shared_ptr<arrow::Schema> schema() const override { return inner_->schema(); }
  int EventTimeColumn() const override { return time_column_; }
  std::optional<int64_t> EstimatedRows() const override {
    return inner_->EstimatedRows();
  }
  std::optional<int64_t> EstimatedBytes() const override {
    return inner_->EstimatedBytes();
  }
  std::optional<int64_t> EstimatedDistinct(int column) const override {
    return inner_->EstimatedDistinct(column);
  }
  bool SupportsPredicatePruning() const override {
    return inner_->SupportsPredicatePruning();
  }
  int64_t rows_read() const override { return inner_->rows_read(); }
  int64_t rows_rejected() const override { return inner_->rows_rejected(); }
  std::string rejects_path() const override { return inner_->rejects_path(); }
  Status Close() override { return inner_->Close(); }

  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection,
      const std::vector<expr::Expr>& predicates) const override {
    std::vector<int> cols = projection;
    auto it = std::find(cols.begin(), cols.end(), time_column_);
    const bool added = it == cols.end();
    if (added) cols.push_back(time_column_);
    const int index = static_cast<int>(std::find(cols.begin(), cols.end(), time_column_) -
                                       cols.begin());
    // Predicates refer to the projected columns: the time column, if added, is last.
    ARROW_ASSIGN_OR_RAISE(auto inner, inner_->MakeSource(cols, predicates));
    return std::make_shared<EventTimeSource>(std::move(inner), index, added, bound_us_);
  }

 private:
  std::shared_ptr<InputTable> inner_;
  int time_column_;
  int64_t bound_us_;
};

}  // namespace

int64_t NewestMicros(const arrow::Array& times, int64_t newest) {
  const auto unit = static_cast<const arrow::TimestampType&>(*times.type()).unit();
  const int64_t* raw = times.data()->GetValues<int64_t>(1);
  for (int64_t i = 0; i < times.length(); ++i) {
    if (times.IsValid(i)) newest = std::max(newest, exec::TimestampMicros(raw[i], unit));
  }
  return newest;
}

void SplitWatermarks::Reset(int splits, int64_t initial) {
  marks_ = std::vector<std::atomic<int64_t>>(splits);
  idle_ = std::vector<std::atomic<bool>>(splits);
  for (int s = 0; s < splits; ++s) {
    marks_[s] = initial;
    idle_[s] = false;
  }
}

Status SplitWatermarks::Emit(exec::Emitter* out) const {
  int64_t low = exec::kMaxWatermark;
  for (size_t s = 0; s < marks_.size(); ++s) {
    if (!idle_[s].load()) low = std::min(low, marks_[s].load());
  }
  if (low == exec::kMaxWatermark || low == std::numeric_limits<int64_t>::min()) {
    return Status::OK();
  }
  return out->EmitWatermark(low);
}

Result<std::shared_ptr<InputTable>> WithEventTime(std::shared_ptr<InputTable> input,
                                                  const std::string& time_column,
                                                  int64_t bound_us) {
  const auto& schema = *input->schema();
  const int c = schema.GetFieldIndex(time_column);
  if (c < 0) {
    return Status::Invalid("event_time: no column '", time_column, "' in ",
                           input->Describe());
  }
  if (schema.field(c)->type()->id() != arrow::Type::TIMESTAMP) {
    return Status::Invalid(
        "event_time: the column '", time_column, "' must be a timestamp, not ",
        schema.field(c)->type()->ToString(), " (give its type in the source's columns)");
  }
  return std::make_shared<EventTimeInput>(std::move(input), c, bound_us);
}

}  // namespace sluice::connector
