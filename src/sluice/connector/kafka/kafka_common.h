#pragma once
// What the Kafka source and sink share: librdkafka configurations and topic metadata.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::connector {

/// A librdkafka configuration with these settings (the caller owns it; rd_kafka_new
/// takes it over). Fails naming a setting librdkafka refuses.
Result<rd_kafka_conf_t*> MakeKafkaConf(
    const std::vector<std::pair<std::string, std::string>>& settings);

/// What a producer's delivery reports said (librdkafka calls back on its polling
/// thread): how many were delivered, how many failed and the first failure's reason.
class DeliveryReports {
 public:
  /// librdkafka's dr_msg_cb, its opaque a DeliveryReports.
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  int64_t delivered() const { return delivered_.load(); }
  /// OK, or an IOError: "<where>: N <what> not delivered: <first reason>".
  Status Failures(const std::string& where, const std::string& what) const;

 private:
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  mutable std::mutex mu_;
  std::string first_error_;  // under mu_
};

/// A producer that waits for every replica (acks=all), idempotent, partitioning keys
/// with murmur2 as Java clients do, its queue capped at `queue_kbytes`, giving up on a
/// message after `delivery_timeout_ms`; `on_delivery` (with `opaque`) sees every
/// delivery report. Fails naming the reason.
Result<rd_kafka_t*> NewProducer(
    const std::string& brokers, int64_t queue_kbytes, int64_t delivery_timeout_ms,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*), void* opaque);

/// The number of partitions of `topic`, or an error naming the topic and the brokers
/// (unreachable, unknown topic) after at most `timeout_ms`.
Result<int> TopicPartitions(rd_kafka_t* rk, const std::string& topic,
                            const std::string& brokers, int64_t timeout_ms);

}  // namespace sluice::connector
