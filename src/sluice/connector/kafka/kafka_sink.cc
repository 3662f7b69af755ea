#include "sluice/connector/kafka/kafka_sink.h"

#include <arrow/array.h>
#include <arrow/compute/api.h>
#include <librdkafka/rdkafka.h>

#include "sluice/base/memory.h"
#include "sluice/connector/kafka/kafka_common.h"
#include "sluice/connector/writer/json_rows.h"

namespace sluice::connector {

namespace {

// Row r of `columns` (each column's text) as one CSV record: NULL as an empty field,
// a field with a comma, quote or line break quoted (quotes doubled).
void AppendCsvRecord(const std::vector<std::shared_ptr<arrow::StringArray>>& columns,
                     int64_t r, std::string* out) {
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) out->push_back(',');
    if (columns[c]->IsNull(r)) continue;
    const std::string_view v = columns[c]->GetView(r);
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
      out->append(v);
      continue;
    }
    out->push_back('"');
    for (char ch : v) {
      if (ch == '"') out->push_back('"');
      out->push_back(ch);
    }
    out->push_back('"');
  }
}

struct SinkLocal : exec::LocalSinkState {
  std::vector<std::string> keys;  // JSON keys of the columns
  std::string value;
};

}  // namespace

KafkaSink::KafkaSink(std::shared_ptr<arrow::Schema> schema, KafkaSinkOptions options)
    : PhysicalNode("KafkaSink " + options.topic),
      schema_(std::move(schema)),
      options_(std::move(options)),
      reports_(std::make_unique<DeliveryReports>()) {}

KafkaSink::~KafkaSink() {
  if (producer_ != nullptr) {
    // After a failed or cancelled run, what is still queued is dropped, not sent.
    if (!finalized_) rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE);
    rd_kafka_flush(producer_, 1000);
    rd_kafka_destroy(producer_);
  }
}

Result<std::shared_ptr<KafkaSink>> KafkaSink::Make(std::shared_ptr<arrow::Schema> schema,
                                                   KafkaSinkOptions options) {
  if (options.brokers.empty()) return Status::Invalid("kafka sink: needs brokers");
  std::shared_ptr<KafkaSink> sink(new KafkaSink(std::move(schema), std::move(options)));
  const auto& o = sink->options_;
  if (!o.key_column.empty()) {
    sink->key_index_ = sink->schema_->GetFieldIndex(o.key_column);
    if (sink->key_index_ < 0) {
      return Status::Invalid("kafka sink: no column '", o.key_column, "' for the key (",
                             sink->schema_->ToString(), ")");
    }
  }
  ARROW_ASSIGN_OR_RAISE(sink->producer_,
                        NewProducer(o.brokers, o.queue_kbytes, o.delivery_timeout_ms,
                                    DeliveryReports::OnDelivery, sink->reports_.get()));
  // The topic must exist (a typo would otherwise wait out the delivery timeout).
  ARROW_RETURN_NOT_OK(
      TopicPartitions(sink->producer_, o.topic, o.brokers, o.delivery_timeout_ms)
          .status());
  return sink;
}

Status KafkaSink::FailureSoFar() {
  return reports_->Failures("kafka topic '" + options_.topic + "'", "messages");
}

int64_t KafkaSink::rows_written() const { return reports_->delivered(); }

Result<std::unique_ptr<exec::LocalSinkState>> KafkaSink::MakeLocal(exec::ExecContext* ctx,
                                                                   int) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() == 0) {
      queue_ = MemoryReservation(ctx->budget(), "Kafka sink queue");
      ARROW_RETURN_NOT_OK(queue_.Grow(options_.queue_kbytes * 1024));
    }
  }
  auto local = std::make_unique<SinkLocal>();
  local->keys = JsonRows::Keys(*schema_);
  return local;
}

Status KafkaSink::Consume(exec::ExecContext* ctx, exec::LocalSinkState* local_base,
                          exec::Batch batch) {
  auto* local = static_cast<SinkLocal*>(local_base);
  const auto& rb = *batch.data;
  ARROW_ASSIGN_OR_RAISE(auto rows, JsonRows::Make(rb, &local->keys));
  std::vector<std::shared_ptr<arrow::StringArray>> texts;  // csv values: each column's
  if (options_.csv_values) {
    for (const auto& column : rb.columns()) {
      ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(column, arrow::utf8()));
      texts.push_back(std::static_pointer_cast<arrow::StringArray>(d.make_array()));
    }
  }
  std::shared_ptr<arrow::StringArray> keys;
  if (key_index_ >= 0) {
    ARROW_ASSIGN_OR_RAISE(auto d,
                          arrow::compute::Cast(rb.column(key_index_), arrow::utf8()));
    keys = std::static_pointer_cast<arrow::StringArray>(d.make_array());
  }
  for (int64_t r = 0; r < rb.num_rows(); ++r) {
    local->value.clear();
    if (options_.csv_values) {
      AppendCsvRecord(texts, r, &local->value);
    } else {
      rows.Append(r, &local->value);
    }
    std::string_view key;
    bool has_key = keys && keys->IsValid(r);
    if (has_key) key = keys->GetView(r);
    if (upserts_ && !has_key) {
      return Status::Invalid(
          "kafka topic '", options_.topic, "': a row of the updating result has a NULL ",
          schema_->field(key_index_)->name(),
          ": upserts need a key (filter out NULL keys, or coalesce them)");
    }
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(local->value.data(), local->value.size()),
          RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return Status::IOError("kafka topic '", options_.topic,
                               "': cannot produce: ", rd_kafka_err2str(e));
      }
      // The queue is full: wait for deliveries (backpressure).
      if (ctx->cancelled()) return Status::Cancelled("cancelled");
      rd_kafka_poll(producer_, 100);
      ARROW_RETURN_NOT_OK(FailureSoFar());
    }
  }
  rd_kafka_poll(producer_, 0);
  return FailureSoFar();
}

Status KafkaSink::FinishLocal(exec::ExecContext*, std::unique_ptr<exec::LocalSinkState>) {
  return Status::OK();
}

Status KafkaSink::Finalize(exec::ExecContext* ctx) {
  rd_kafka_resp_err_t e =
      rd_kafka_flush(producer_, static_cast<int>(options_.delivery_timeout_ms + 5000));
  ARROW_RETURN_NOT_OK(FailureSoFar());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::IOError(
        "kafka topic '", options_.topic, "': ", rd_kafka_outq_len(producer_),
        " messages still undelivered after the delivery timeout: ", rd_kafka_err2str(e));
  }
  ctx->progress().rows_written += reports_->delivered();
  finalized_ = true;
  return Status::OK();
}

Status KafkaSink::TakeUpdates(const std::vector<int>& key_columns) const {
  if (key_columns.size() == 1 && key_columns[0] == key_index_) {
    upserts_ = true;
    return Status::OK();
  }
  std::string keys;
  for (int c : key_columns) {
    keys += (keys.empty() ? "" : ", ") + schema_->field(c)->name();
  }
  if (key_columns.size() != 1) {
    return Status::Invalid(
        "this query's result updates (a GROUP BY without windows over an unbounded "
        "stream) and goes to Kafka topic ",
        options_.topic,
        " as upserts by key, which "
        "takes one key column; it is grouped by ",
        keys.empty() ? std::string("nothing") : keys,
        ": group by one column (e.g. the keys joined into one string)");
  }
  return Status::Invalid(
      "this query's result updates (a GROUP BY without windows over an unbounded "
      "stream) and goes to Kafka topic ",
      options_.topic, " as upserts: the message key must be the GROUP BY column (KEY '",
      keys, "')");
}

}  // namespace sluice::connector
