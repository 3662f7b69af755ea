#pragma once
// A Kafka topic as a table (librdkafka): `read_kafka('topic', brokers => '...', columns
// => 'a bigint, ts timestamp', ...)` in SQL, format `kafka` in a job.
//
// Splits are the topic's partitions: each is read by a consumer of its own, assigned
// the partition (no group rebalancing), from `start`: earliest (default), latest,
// committed (group_id's committed offset, else earliest), a time ("2024-05-01
// 12:00:00" UTC, or "ms:1714564800000": each partition from its first message at or
// after it), or "partition:offset,partition:offset" (others from earliest). `stop_at`:
// never (the default: an unbounded stream that ends when the job is stopped) or end (the
// offsets that were the end when the job started: a bounded read, for batch jobs and
// tests).
//
// Values are JSON objects (format json; the columns given; nested values as JSON text),
// parsed by the JSON reader: a message that is not valid JSON or whose values do not fit
// is a bad row named "topic:partition" at its offset, handled by on_error (fail, skip,
// reject: to a rejects file, or with rejects => 'kafka:TOPIC' to a dead-letter topic on
// the same brokers, kafka_dead_letter.h). An empty message is a bad row too.
// value_format => 'csv' reads each message as one CSV record of the columns (no header;
// the CSV reader's conversions and quoting; a message with a line break is a bad row).
// value_format => 'raw' instead gives each value as it is in one column `value`, text
// (bytes that are not UTF-8 are a bad row) or, with columns => 'value blob', binary; a
// message without a value is NULL. Optional metadata columns, appended in the order asked
// for (metadata => 'key,timestamp,partition,offset,headers'): kafka_key (utf8),
// kafka_timestamp (timestamp[ms, UTC]), kafka_partition (int32), kafka_offset (int64),
// kafka_headers (utf8: a JSON object of the headers' values as strings, NULL without
// headers).
//
// Event time: with event_time (a column) and watermark (a duration), each partition
// emits bounded out-of-orderness watermarks; the source's watermark is the lowest over
// the partitions that are not idle (a partition without a message for idle_timeout,
// default 30 s, stops holding it back until it has messages again).
//
// Offsets: with `group_id`, the offsets of the messages read are committed to the group
// when the job has finished and its sinks are written (Close): at-least-once. Without a
// group nothing is committed.
//
// A broker away: librdkafka reconnects by itself (backing off at most 1 s) and the read
// waits. Errors it hands to the poll are waited out too, failing the job naming the
// brokers and the last error once broker_timeout (default 60 s) passes without a
// message; unknown topics and authorization errors fail at once. A broker gone for good
// hands the poll no error: a quiet partition asks for the topic's metadata every 2 s,
// and failures of that count the same way.
//
// Memory: librdkafka's prefetch queue per partition is capped (queue_kbytes, default
// 16 MiB) and counted against the job's memory budget.
#include <memory>
#include <string>

#include "sluice/connector/input_table.h"

namespace sluice::connector {

Result<std::shared_ptr<InputTable>> OpenKafkaInput(const SourceSpec& spec);

}  // namespace sluice::connector
