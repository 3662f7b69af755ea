#pragma once
// Writing rows to a Kafka topic (librdkafka): `COPY (query) TO 'topic' (FORMAT kafka,
// BROKERS 'host:port', KEY 'column')`.
//
// Each row is one message: its value the row as a JSON object (json_rows.h), or with
// csv_values as one CSV record (no header; fields as Arrow casts them to text), its key
// the text of the key column when one is named (messages with equal keys then go to the
// same partition: murmur2, as Java clients partition), else no key. Every message's
// delivery report is checked: Finalize waits for all of them (flush) and fails, naming
// the topic and the broker's reason, if any message was not delivered within the
// delivery timeout; rows_written() counts delivered messages. When librdkafka's queue
// is full the producing worker waits for deliveries (backpressure). The queue is capped
// (queue_kbytes, default 16 MiB) and counted against the job's memory budget.
// At-least-once: a job that fails after some deliveries has written those.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "sluice/base/memory.h"
#include "sluice/exec/operator.h"

struct rd_kafka_s;  // librdkafka's handle

namespace sluice::connector {

class DeliveryReports;  // kafka_common.h

struct KafkaSinkOptions {
  std::string brokers;
  std::string topic;
  std::string key_column;   // empty: no key
  bool csv_values = false;  // values as CSV records (no header) instead of JSON objects
  int64_t queue_kbytes = 16384;
  int64_t delivery_timeout_ms = 30000;
};

class KafkaSink : public exec::Sink {
 public:
  /// Connects and checks that the topic exists and the key column is in `schema`.
  static Result<std::shared_ptr<KafkaSink>> Make(std::shared_ptr<arrow::Schema> schema,
                                                 KafkaSinkOptions options);
  ~KafkaSink() override;

  Result<std::unique_ptr<exec::LocalSinkState>> MakeLocal(exec::ExecContext* ctx,
                                                          int worker) override;
  Status Consume(exec::ExecContext* ctx, exec::LocalSinkState* local,
                 exec::Batch batch) override;
  Status FinishLocal(exec::ExecContext* ctx,
                     std::unique_ptr<exec::LocalSinkState> local) override;
  Status Finalize(exec::ExecContext* ctx) override;
  /// Upserts: when the message key is the one key column (a compacted topic then keeps
  /// each key's latest row).
  Status TakeUpdates(const std::vector<int>& key_columns) const override;
  std::string what_it_writes() const override { return "Kafka topic " + options_.topic; }
  bool takes_result() const override { return true; }

  int64_t rows_written() const;

 private:
  KafkaSink(std::shared_ptr<arrow::Schema> schema, KafkaSinkOptions options);
  Status FailureSoFar();

  std::shared_ptr<arrow::Schema> schema_;
  KafkaSinkOptions options_;
  int key_index_ = -1;
  mutable bool upserts_ = false;  // TakeUpdates accepted an updating result
  ::rd_kafka_s* producer_ = nullptr;
  std::unique_ptr<DeliveryReports> reports_;
  std::mutex mu_;
  MemoryReservation queue_;  // librdkafka's queue, under mu_
  bool finalized_ = false;   // every message delivered
};

}  // namespace sluice::connector
