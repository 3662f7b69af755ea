#pragma once
// A dead-letter topic: where a Kafka source's rejected messages go (`on_error =>
// 'reject', rejects => 'kafka:TOPIC'`), on the source's brokers. Each rejected message
// becomes one message of the topic: its value the rejects file's JSON object (source
// "topic:partition", line = the offset, column, reason, raw), its key the source
// partition ("topic:partition"), so a partition's rejects stay in order. Produced as
// they come (acks=all, idempotent); Close waits for every delivery and fails if one
// was not delivered. The topic must exist.
#include <memory>
#include <string>

#include "sluice/base/bad_rows.h"

namespace sluice::connector {

/// The rejects output for `topic` on `brokers`; checks that the topic exists.
Result<std::unique_ptr<RejectsOutput>> OpenDeadLetterTopic(const std::string& brokers,
                                                           const std::string& topic,
                                                           int64_t timeout_ms);

}  // namespace sluice::connector
