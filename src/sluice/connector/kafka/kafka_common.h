#pragma once
// What the Kafka source and sink share: librdkafka configurations and topic metadata.
#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>
#include <vector>

#include "sluice/base/status.h"

namespace sluice::connector {

/// A librdkafka configuration with these settings (the caller owns it; rd_kafka_new
/// takes it over). Fails naming a setting librdkafka refuses.
Result<rd_kafka_conf_t*> MakeKafkaConf(
    const std::vector<std::pair<std::string, std::string>>& settings);

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
