#include "sluice/connector/kafka/kafka_input.h"

#include <arrow/builder.h>
#include <arrow/io/memory.h>
#include <arrow/util/utf8.h>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "sluice/base/bad_rows.h"
#include "sluice/base/duration.h"
#include "sluice/base/json_text.h"
#include "sluice/base/memory.h"
#include "sluice/connector/csv/csv_reader.h"
#include "sluice/connector/csv/csv_value_parsing_internal.h"
#include "sluice/connector/event_time_input.h"
#include "sluice/connector/json/json_reader.h"
#include "sluice/connector/kafka/kafka_common.h"
#include "sluice/connector/kafka/kafka_dead_letter.h"
#include "sluice/exec/operators/time_window.h"

namespace sluice::connector {

namespace {

using Clock = std::chrono::steady_clock;

// A quiet partition asks the brokers for the topic's metadata this often, waiting this
// long.
constexpr auto kProbeEvery = std::chrono::seconds(2);
constexpr int kProbeTimeoutMs = 2000;

struct KafkaOptions {
  std::string brokers;
  std::string topic;
  std::string group;
  std::string start = "earliest";
  std::map<int32_t, int64_t> start_offsets;
  bool stop_at_end = false;
  std::shared_ptr<arrow::Schema> value_schema;
  std::vector<std::string> metadata;
  bool raw = false;            // value_format raw: the value as one column, `value`
  bool csv = false;            // value_format csv: one record per message
  int64_t start_time_ms = -1;  // start => a time: the first offset at or after it
  int event_time = -1;         // column of the table schema
  int64_t watermark_us = -1;
  int64_t idle_timeout_us = 30'000'000;
  int64_t queue_kbytes = 16384;
  int64_t timeout_ms = 30000;  // reaching the brokers, reading metadata
  // How long the brokers may stay unreachable during a read before the job fails
  // (librdkafka reconnects by itself meanwhile).
  int64_t broker_timeout_us = 60'000'000;
  int64_t max_batch_messages = 65536;
};

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

// A consumer handle (not subscribed: partitions are assigned by hand).
Result<KafkaHandle> NewConsumer(const KafkaOptions& o, bool with_group) {
  // A group id is needed to commit; a private one when the job names none.
  ARROW_ASSIGN_OR_RAISE(
      rd_kafka_conf_t * conf,
      MakeKafkaConf(
          {{"bootstrap.servers", o.brokers},
           {"group.id", with_group && !o.group.empty() ? o.group : "sluice-reader"},
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"enable.partition.eof", "false"},
           {"queued.max.messages.kbytes", std::to_string(o.queue_kbytes)},
           {"auto.offset.reset", "earliest"},
           {"reconnect.backoff.max.ms", "1000"},
           {"log_level", "3"}}));
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::IOError("kafka: cannot create a consumer: ", err);
  }
  return KafkaHandle(rk);
}

Result<int> PartitionCount(const KafkaOptions& o) {
  ARROW_ASSIGN_OR_RAISE(auto rk, NewConsumer(o, false));
  return TopicPartitions(rk.get(), o.topic, o.brokers, o.timeout_ms);
}

// Errors no reconnection cures.
bool PermanentError(rd_kafka_resp_err_t e) {
  switch (e) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

// Whether the consumer's next offset in the partition is at least `end`.
bool PositionReached(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                     int64_t end) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  bool reached = rd_kafka_position(rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                 list->elems[0].offset >= end;
  rd_kafka_topic_partition_list_destroy(list);
  return reached;
}

// The messages of one batch of one partition.
struct Polled {
  std::string values;            // each message's value on a line of its own (json)
  std::vector<std::string> raw;  // each message's value as it is (raw)
  std::vector<bool> has_value;   // raw: false for a message without a value
  std::vector<int64_t> offsets;
  std::vector<int64_t> timestamps;  // ms, -1 if none
  std::vector<std::string> keys;
  std::vector<bool> has_key;
  std::vector<std::string> headers;  // as a JSON object, "" when none
  void Clear() {
    values.clear();
    raw.clear();
    has_value.clear();
    offsets.clear();
    timestamps.clear();
    keys.clear();
    has_key.clear();
    headers.clear();
  }
};

// A message's headers as a JSON object of strings ({"name": "value", ...}; a header
// without a value is null; a name seen twice keeps its last value). "" when none.
std::string HeadersJson(rd_kafka_message_t* m) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      hdrs == nullptr) {
    return "";
  }
  std::map<std::string, std::optional<std::string>> by_name;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    by_name[name] = value == nullptr ? std::nullopt
                                     : std::optional<std::string>(std::string(
                                           static_cast<const char*>(value), size));
  }
  std::string out = "{";
  for (const auto& [k, v] : by_name) {
    if (out.size() > 1) out += ",";
    AppendJsonString(&out, k);
    out += ":";
    if (v) {
      AppendJsonString(&out, *v);
    } else {
      out += "null";
    }
  }
  return out + "}";
}

class KafkaInput;

class KafkaSource : public exec::Source {
 public:
  KafkaSource(KafkaInput* input, std::vector<int> projection);
  Status Prepare(exec::ExecContext* ctx) override;
  int64_t num_morsels() const override;
  bool unbounded() const override;
  Status Produce(exec::ExecContext* ctx, int64_t morsel, exec::Emitter* out) override;

 private:
  Result<std::shared_ptr<arrow::RecordBatch>> Decode(int32_t partition, Polled* polled);
  Result<std::shared_ptr<arrow::Array>> RawValues(int32_t partition, const Polled& polled,
                                                  std::vector<int64_t>* good);
  Result<arrow::ArrayVector> JsonValues(int32_t partition, Polled* polled,
                                        std::vector<int64_t>* good);
  Result<std::shared_ptr<arrow::RecordBatch>> WithMetadata(
      int32_t partition, const Polled& polled, const std::vector<int64_t>& good,
      arrow::ArrayVector columns);
  // A JSON message's value on a line of its own (an empty one is a bad row).
  Status AddJsonValue(rd_kafka_message_t* m, int32_t partition, Polled* polled);
  // The offset, timestamp, key and headers of a message taken into `polled`.
  void AddMessageFields(rd_kafka_message_t* m, Polled* polled) const;
  bool want_headers_ = false;  // metadata asks for headers

  KafkaInput* input_;
  std::vector<int> projection_;
  SplitWatermarks watermarks_;              // by partition
  std::vector<std::atomic<int64_t>> lags_;  // consumer lag by partition
  void ReportLag(exec::ExecContext* ctx, rd_kafka_t* rk, int partition);
};

class KafkaInput : public InputTable {
 public:
  KafkaInput(KafkaOptions o, int partitions, std::shared_ptr<arrow::Schema> schema,
             std::shared_ptr<BadRowHandler> bad_rows)
      : o_(std::move(o)),
        partitions_(partitions),
        schema_(std::move(schema)),
        bad_rows_(std::move(bad_rows)) {}

  std::string Describe() const override {
    return fmt::format("kafka {} ({} partitions{})", o_.topic, partitions_,
                       o_.stop_at_end ? ", to the end" : "");
  }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  int EventTimeColumn() const override { return o_.event_time; }
  bool Unbounded() const override { return !o_.stop_at_end; }
  int64_t rows_read() const override { return rows_read_.load(); }
  int64_t rows_rejected() const override { return bad_rows_->rejected(); }
  std::string rejects_path() const override {
    return bad_rows_->policy() == OnError::kReject ? bad_rows_->rejects_path() : "";
  }
  Result<std::shared_ptr<exec::Source>> MakeSource(
      const std::vector<int>& projection, const std::vector<expr::Expr>&) const override {
    return std::make_shared<KafkaSource>(const_cast<KafkaInput*>(this), projection);
  }

  // Commits the offsets read (the job's results are written by now).
  Status Close() override {
    ARROW_RETURN_NOT_OK(bad_rows_->Close());
    std::lock_guard<std::mutex> lock(mu_);
    if (o_.group.empty() || next_offsets_.empty()) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(auto rk, NewConsumer(o_, true));
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets_.size()));
    for (const auto& [p, offset] : next_offsets_) {
      rd_kafka_topic_partition_list_add(list, o_.topic.c_str(), p)->offset = offset;
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(rk.get(), list, 0);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError("kafka topic '", o_.topic,
                             "': committing the offsets read "
                             "for group '",
                             o_.group, "': ", rd_kafka_err2str(e));
    }
    next_offsets_.clear();
    return Status::OK();
  }

  const KafkaOptions& options() const { return o_; }
  int partitions() const { return partitions_; }
  BadRowHandler* bad_rows() const { return bad_rows_.get(); }
  std::atomic<int64_t>& rows_counter() { return rows_read_; }
  void Consumed(int32_t partition, int64_t next_offset) {
    std::lock_guard<std::mutex> lock(mu_);
    next_offsets_[partition] = std::max(next_offsets_[partition], next_offset);
  }
  /// The offset after the last message of `partition` read (0 before any).
  int64_t NextOffset(int32_t partition) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = next_offsets_.find(partition);
    return it == next_offsets_.end() ? 0 : it->second;
  }

 private:
  KafkaOptions o_;
  int partitions_;
  std::shared_ptr<arrow::Schema> schema_;
  std::shared_ptr<BadRowHandler> bad_rows_;
  std::atomic<int64_t> rows_read_{0};
  std::mutex mu_;
  std::map<int32_t, int64_t> next_offsets_;
};

KafkaSource::KafkaSource(KafkaInput* input, std::vector<int> projection)
    : PhysicalNode("Scan " + input->Describe()),
      input_(input),
      projection_(std::move(projection)) {}

Status KafkaSource::Prepare(exec::ExecContext*) {
  watermarks_.Reset(input_->partitions(), std::numeric_limits<int64_t>::min());
  lags_ = std::vector<std::atomic<int64_t>>(input_->partitions());
  const auto& meta = input_->options().metadata;
  want_headers_ = std::find(meta.begin(), meta.end(), "headers") != meta.end();
  return Status::OK();
}

// The consumer lag of `partition` (the high watermark librdkafka last heard of, less
// the next offset), and the topic's total for the live status.
void KafkaSource::ReportLag(exec::ExecContext* ctx, rd_kafka_t* rk, int partition) {
  int64_t low = 0, high = 0;
  if (rd_kafka_get_watermark_offsets(rk, input_->options().topic.c_str(), partition, &low,
                                     &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return;
  }
  lags_[partition] = std::max<int64_t>(0, high - input_->NextOffset(partition));
  int64_t total = 0;
  for (const auto& l : lags_) total += l.load();
  ctx->progress().SetSourceLag("kafka " + input_->options().topic, total);
}

Status KafkaSource::AddJsonValue(rd_kafka_message_t* m, int32_t partition,
                                 Polled* polled) {
  const auto& o = input_->options();
  const char* v = static_cast<const char*>(m->payload);
  const std::string_view value = v == nullptr ? "" : std::string_view(v, m->len);
  if (o.csv && value.find_first_of("\r\n") != std::string_view::npos) {
    // The messages are lines of one reader: a record must not span lines.
    BadRow bad{fmt::format("{}:{}", o.topic, partition), m->offset, "",
               "a CSV message holds one record on one line", value};
    input_->rows_counter() += 1;
    return input_->bad_rows()->Report(bad);
  }
  const size_t at = polled->values.size();
  polled->values.append(value);
  // One message, one line: raw newlines may only be whitespace between tokens.
  for (size_t i = at; i < polled->values.size(); ++i) {
    if (polled->values[i] == '\n' || polled->values[i] == '\r') polled->values[i] = ' ';
  }
  const bool blank = std::all_of(polled->values.begin() + at, polled->values.end(),
                                 [](char c) { return c == ' ' || c == '\t'; });
  if (blank) {
    // The JSON reader skips blank lines: an empty message is a bad row of its own.
    polled->values.resize(at);
    BadRow bad{fmt::format("{}:{}", o.topic, partition), m->offset, "", "empty message",
               std::string_view()};
    input_->rows_counter() += 1;
    return input_->bad_rows()->Report(bad);
  }
  polled->values.push_back('\n');
  AddMessageFields(m, polled);
  return Status::OK();
}

void KafkaSource::AddMessageFields(rd_kafka_message_t* m, Polled* polled) const {
  polled->offsets.push_back(m->offset);
  rd_kafka_timestamp_type_t tt;
  polled->timestamps.push_back(rd_kafka_message_timestamp(m, &tt));
  polled->has_key.push_back(m->key != nullptr);
  polled->keys.emplace_back(m->key ? static_cast<const char*>(m->key) : "", m->key_len);
  polled->headers.push_back(want_headers_ ? HeadersJson(m) : std::string());
}

// The raw values as the `value` column; those that are not valid UTF-8 for a text
// column are bad rows, left out of `good` (message indexes kept).
Result<std::shared_ptr<arrow::Array>> KafkaSource::RawValues(int32_t partition,
                                                             const Polled& polled,
                                                             std::vector<int64_t>* good) {
  const auto& o = input_->options();
  const bool text = o.value_schema->field(0)->type()->id() == arrow::Type::STRING;
  static const bool utf8_ready = [] {
    arrow::util::InitializeUTF8();
    return true;
  }();
  (void)utf8_ready;
  const int64_t n = static_cast<int64_t>(polled.offsets.size());
  arrow::BinaryBuilder binary;
  arrow::StringBuilder strings;
  for (int64_t i = 0; i < n; ++i) {
    const std::string& v = polled.raw[i];
    if (text && polled.has_value[i] &&
        !arrow::util::ValidateUTF8(reinterpret_cast<const uint8_t*>(v.data()),
                                   static_cast<int64_t>(v.size()))) {
      BadRow bad{fmt::format("{}:{}", o.topic, partition), polled.offsets[i], "value",
                 "not valid UTF-8 (read it as value binary)", std::string_view()};
      ARROW_RETURN_NOT_OK(input_->bad_rows()->Report(bad));
      continue;
    }
    good->push_back(i);
    if (text) {
      ARROW_RETURN_NOT_OK(polled.has_value[i] ? strings.Append(v) : strings.AppendNull());
    } else {
      ARROW_RETURN_NOT_OK(polled.has_value[i] ? binary.Append(v) : binary.AppendNull());
    }
  }
  std::shared_ptr<arrow::Array> out;
  if (text) {
    ARROW_RETURN_NOT_OK(strings.Finish(&out));
  } else {
    ARROW_RETURN_NOT_OK(binary.Finish(&out));
  }
  return out;
}

int64_t KafkaSource::num_morsels() const { return input_->partitions(); }

bool KafkaSource::unbounded() const { return !input_->options().stop_at_end; }

Result<std::shared_ptr<arrow::RecordBatch>> KafkaSource::Decode(int32_t partition,
                                                                Polled* polled) {
  const auto& o = input_->options();
  std::vector<int64_t> good;
  arrow::ArrayVector columns;
  if (o.raw) {
    ARROW_ASSIGN_OR_RAISE(auto values, RawValues(partition, *polled, &good));
    columns.push_back(std::move(values));
  } else {
    ARROW_ASSIGN_OR_RAISE(columns, JsonValues(partition, polled, &good));
  }
  if (good.empty()) return nullptr;
  return WithMetadata(partition, *polled, good, std::move(columns));
}

Result<arrow::ArrayVector> KafkaSource::JsonValues(int32_t partition, Polled* polled,
                                                   std::vector<int64_t>* good_out) {
  const auto& o = input_->options();
  const std::string place = fmt::format("{}:{}", o.topic, partition);
  std::set<int64_t> bad_lines;  // 1-based, within this batch
  // Line l of the batch is message l - 1: its bad rows are named by topic:partition and
  // offset.
  auto place_bad_row = [&](BadRow* bad) {
    bad_lines.insert(bad->line);
    bad->source = place;
    bad->line = polled->offsets[bad->line - 1];
  };
  auto stream = std::make_shared<arrow::io::BufferReader>(std::make_shared<arrow::Buffer>(
      reinterpret_cast<const uint8_t*>(polled->values.data()),
      static_cast<int64_t>(polled->values.size())));
  const int64_t batch_rows = static_cast<int64_t>(polled->offsets.size()) + 1;
  std::shared_ptr<arrow::RecordBatch> values;
  if (o.csv) {
    csv::CsvOptions co;
    co.header = false;
    co.schema = o.value_schema;
    co.batch_rows = batch_rows;
    co.place_bad_row = place_bad_row;
    ARROW_ASSIGN_OR_RAISE(
        auto reader, csv::CsvReader::OpenStream(place, stream, o.value_schema, {}, co,
                                                input_->bad_rows()));
    ARROW_ASSIGN_OR_RAISE(values, reader->Next());
  } else {
    json::JsonOptions jo;
    jo.schema = o.value_schema;
    jo.batch_rows = batch_rows;
    jo.place_bad_row = place_bad_row;
    ARROW_ASSIGN_OR_RAISE(
        auto reader, json::JsonReader::OpenStream(place, stream, o.value_schema, {}, jo,
                                                  input_->bad_rows()));
    ARROW_ASSIGN_OR_RAISE(values, reader->Next());
  }
  const int64_t n = static_cast<int64_t>(polled->offsets.size());
  for (int64_t i = 0; i < n; ++i) {
    if (!bad_lines.count(i + 1)) good_out->push_back(i);
  }
  if (good_out->empty() || values == nullptr) return arrow::ArrayVector{};
  return values->columns();
}

// The values' columns with the metadata columns asked for, of messages `good`.
Result<std::shared_ptr<arrow::RecordBatch>> KafkaSource::WithMetadata(
    int32_t partition, const Polled& polled_ref, const std::vector<int64_t>& good,
    arrow::ArrayVector columns) {
  const auto& o = input_->options();
  const Polled* polled = &polled_ref;
  for (const auto& m : o.metadata) {
    if (m == "key") {
      arrow::StringBuilder b;
      for (int64_t i : good) {
        ARROW_RETURN_NOT_OK(polled->has_key[i] ? b.Append(polled->keys[i])
                                               : b.AppendNull());
      }
      columns.push_back(b.Finish().ValueOrDie());
    } else if (m == "timestamp") {
      arrow::TimestampBuilder b(arrow::timestamp(arrow::TimeUnit::MILLI, "UTC"),
                                arrow::default_memory_pool());
      for (int64_t i : good) {
        ARROW_RETURN_NOT_OK(polled->timestamps[i] >= 0 ? b.Append(polled->timestamps[i])
                                                       : b.AppendNull());
      }
      columns.push_back(b.Finish().ValueOrDie());
    } else if (m == "partition") {
      arrow::Int32Builder b;
      for (size_t i = 0; i < good.size(); ++i) ARROW_RETURN_NOT_OK(b.Append(partition));
      columns.push_back(b.Finish().ValueOrDie());
    } else if (m == "headers") {
      arrow::StringBuilder b;
      for (int64_t i : good) {
        const std::string& h = polled->headers[i];
        ARROW_RETURN_NOT_OK(h.empty() ? b.AppendNull() : b.Append(h));
      }
      columns.push_back(b.Finish().ValueOrDie());
    } else {
      arrow::Int64Builder b;
      for (int64_t i : good) ARROW_RETURN_NOT_OK(b.Append(polled->offsets[i]));
      columns.push_back(b.Finish().ValueOrDie());
    }
  }
  return arrow::RecordBatch::Make(input_->schema(), static_cast<int64_t>(good.size()),
                                  std::move(columns));
}

Status KafkaSource::Produce(exec::ExecContext* ctx, int64_t morsel, exec::Emitter* out) {
  const auto& o = input_->options();
  const int32_t partition = static_cast<int32_t>(morsel);
  const std::string place = fmt::format("kafka {}:{}", o.topic, partition);
  // librdkafka's prefetch queue for this partition lives in our budget.
  MemoryReservation queue(ctx->budget(), "Kafka source queue");
  ARROW_RETURN_NOT_OK(queue.Grow(o.queue_kbytes * 1024));
  ARROW_ASSIGN_OR_RAISE(auto rk, NewConsumer(o, true));
  int64_t start = RD_KAFKA_OFFSET_BEGINNING;
  if (o.start == "latest") start = RD_KAFKA_OFFSET_END;
  if (o.start == "committed") start = RD_KAFKA_OFFSET_STORED;
  if (auto it = o.start_offsets.find(partition); it != o.start_offsets.end()) {
    start = it->second;
  }
  if (o.start == "time") {
    // The first offset whose message time is at or after the start (none: the end).
    rd_kafka_topic_partition_list_t* t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, o.topic.c_str(), partition)->offset =
        o.start_time_ms;
    rd_kafka_resp_err_t te =
        rd_kafka_offsets_for_times(rk.get(), t, static_cast<int>(o.timeout_ms));
    const int64_t found = t->elems[0].offset;
    const rd_kafka_resp_err_t pe = t->elems[0].err;
    rd_kafka_topic_partition_list_destroy(t);
    if (te != RD_KAFKA_RESP_ERR_NO_ERROR || pe != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError(
          place, ": cannot find the offset of the start time: ",
          rd_kafka_err2str(te != RD_KAFKA_RESP_ERR_NO_ERROR ? te : pe));
    }
    start = found >= 0 ? found : RD_KAFKA_OFFSET_END;
  }
  if (start == RD_KAFKA_OFFSET_STORED) {
    // The group's committed offset, resolved now (to know whether anything is left
    // before the end); none committed: from the beginning.
    rd_kafka_topic_partition_list_t* c = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(c, o.topic.c_str(), partition);
    rd_kafka_resp_err_t ce =
        rd_kafka_committed(rk.get(), c, static_cast<int>(o.timeout_ms));
    const int64_t committed = c->elems[0].offset;
    const rd_kafka_resp_err_t pe = c->elems[0].err;
    rd_kafka_topic_partition_list_destroy(c);
    if (ce != RD_KAFKA_RESP_ERR_NO_ERROR || pe != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError(
          place, ": cannot read the committed offset of group '", o.group,
          "': ", rd_kafka_err2str(ce != RD_KAFKA_RESP_ERR_NO_ERROR ? ce : pe));
    }
    start = committed >= 0 ? committed : RD_KAFKA_OFFSET_BEGINNING;
  }
  int64_t end = std::numeric_limits<int64_t>::max();
  if (o.stop_at_end) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        rk.get(), o.topic.c_str(), partition, &lo, &hi, static_cast<int>(o.timeout_ms));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError(place,
                             ": cannot read its end offset: ", rd_kafka_err2str(e));
    }
    end = hi;
    if (start == RD_KAFKA_OFFSET_END || hi == lo || (start >= 0 && start >= hi)) {
      watermarks_.End(partition);
      return watermarks_.Emit(out);
    }
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, o.topic.c_str(), partition)->offset = start;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::IOError(place, ": cannot assign: ", rd_kafka_err2str(e));
  }
  Polled polled;
  int64_t seq = 0;
  int64_t newest = std::numeric_limits<int64_t>::min();
  auto last_message = Clock::now();
  auto last_contact = Clock::now();  // a message or a successful probe
  bool done = false;
  bool trouble = false;       // a transient error and no message since
  bool poll_trouble = false;  // one the poll handed over (a good probe leaves it)
  auto trouble_since = Clock::now();
  std::string last_error;
  while (!done) {
    if (ctx->cancelled()) return Status::Cancelled("cancelled");
    if (trouble &&
        Clock::now() - trouble_since > std::chrono::microseconds(o.broker_timeout_us)) {
      return Status::IOError(
          place, ": the brokers (", o.brokers, ") stayed unreachable for ",
          FormatDurationMicros(o.broker_timeout_us), " (broker_timeout): ", last_error);
    }
    // A graceful stop ends an unbounded read here (what was polled still goes out).
    if (!o.stop_at_end && ctx->stop_requested()) done = true;
    rd_kafka_message_t* m = done ? nullptr : rd_kafka_consumer_poll(rk.get(), 100);
    const bool flush = m == nullptr || static_cast<int64_t>(polled.offsets.size()) >=
                                           o.max_batch_messages;
    if (m != nullptr) {
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const rd_kafka_resp_err_t err = m->err;
        std::string why = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        char fatal[256];
        if (PermanentError(err) || rd_kafka_fatal_error(rk.get(), fatal, sizeof(fatal)) !=
                                       RD_KAFKA_RESP_ERR_NO_ERROR) {
          return Status::IOError(place, ": ", why);
        }
        // Transient (a broker away, a leader moving): librdkafka reconnects; we wait,
        // up to broker_timeout without a message.
        if (!trouble) {
          trouble = true;
          trouble_since = Clock::now();
        }
        poll_trouble = true;
        last_error = why;
        continue;
      }
      trouble = false;
      poll_trouble = false;
      last_message = Clock::now();
      last_contact = last_message;
      watermarks_.SetIdle(partition, false);  // holds the watermark again
      const char* v = static_cast<const char*>(m->payload);
      size_t len = m->len;
      if (o.raw) {
        // The value as it is (its bytes checked when the column is text, at Decode).
        polled.raw.emplace_back(v == nullptr ? "" : std::string_view(v, len));
        polled.has_value.push_back(v != nullptr);
        AddMessageFields(m, &polled);
      } else {
        Status st = AddJsonValue(m, partition, &polled);
        if (!st.ok()) {
          rd_kafka_message_destroy(m);
          return st;
        }
      }
      input_->Consumed(partition, m->offset + 1);
      if (m->offset + 1 >= end) done = true;
      rd_kafka_message_destroy(m);
    } else if (o.stop_at_end && PositionReached(rk.get(), o.topic, partition, end)) {
      // Offsets below the end that hold no message (transaction markers, compacted
      // records) never arrive: the consumer's position says the end is reached.
      done = true;
    } else if (m == nullptr && Clock::now() - last_contact > kProbeEvery) {
      // Quiet: ask the brokers for the topic's metadata. A broker gone for good hands
      // no error to the poll; this request fails instead (within its timeout), and
      // after broker_timeout of failures the read fails.
      last_contact = Clock::now();
      auto probe = TopicPartitions(rk.get(), o.topic, o.brokers, kProbeTimeoutMs);
      if (probe.ok()) {
        // The brokers answer; errors of the poll itself stand until a message comes.
        if (!poll_trouble) trouble = false;
      } else {
        if (!trouble) {
          trouble = true;
          trouble_since = Clock::now();
        }
        last_error = probe.status().message();
      }
    }
    if (m == nullptr && o.idle_timeout_us > 0 &&
        Clock::now() - last_message > std::chrono::microseconds(o.idle_timeout_us)) {
      watermarks_.SetIdle(partition, true);
      ARROW_RETURN_NOT_OK(watermarks_.Emit(out));
    }
    if ((flush || done) && !polled.offsets.empty()) {
      input_->rows_counter() += static_cast<int64_t>(polled.offsets.size());
      ARROW_ASSIGN_OR_RAISE(auto batch, Decode(partition, &polled));
      polled.Clear();
      if (batch) {
        if (o.event_time >= 0 && o.watermark_us >= 0) {
          newest = NewestMicros(*batch->column(o.event_time), newest);
          if (newest != std::numeric_limits<int64_t>::min()) {
            watermarks_.Set(partition, BoundedWatermark(newest, o.watermark_us));
          }
        }
        ctx->progress().rows_read += batch->num_rows();
        ReportLag(ctx, rk.get(), partition);
        ARROW_ASSIGN_OR_RAISE(auto projected, batch->SelectColumns(projection_));
        ARROW_RETURN_NOT_OK(
            out->Emit(exec::Batch{std::move(projected), exec::MorselSeq(morsel, seq++)}));
        ARROW_RETURN_NOT_OK(watermarks_.Emit(out));
      }
    }
  }
  watermarks_.End(partition);
  return watermarks_.Emit(out);
}

// "a,b,c" -> {"a", "b", "c"} ("" -> {""}).
std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    out.push_back(text.substr(pos, comma == std::string::npos ? comma : comma - pos));
    if (comma == std::string::npos) return out;
    pos = comma + 1;
  }
}

// "2024-05-01 12:00:00" or "2024-05-01T12:00:00.250" (UTC), or "ms:1714564800000":
// milliseconds since the epoch. Nullopt for anything else.
std::optional<int64_t> ParseStartTime(const std::string& v) {
  if (v.rfind("ms:", 0) == 0) {
    auto ms = ParseIntOption("start", v.substr(3));
    if (!ms.ok() || *ms < 0) return std::nullopt;  // Kafka gives -1, -2 other meanings
    return *ms;
  }
  // The CSV reader's ISO parser (whole text, fields in range), with seconds and
  // without a zone (UTC), at or after the epoch.
  csv::IsoTimestamp ts;
  int64_t ms = 0;
  if (csv::ParseIsoTimestamp(v.data(), static_cast<int64_t>(v.size()), &ts) !=
          csv::ParseStatus::kOk ||
      !ts.has_seconds || ts.has_zone ||
      csv::IsoTimestampToUnit(ts, arrow::TimeUnit::MILLI, &ms) != csv::ParseStatus::kOk ||
      ms < 0) {
    return std::nullopt;
  }
  return ms;
}

}  // namespace

Result<std::shared_ptr<InputTable>> OpenKafkaInput(const SourceSpec& spec) {
  KafkaOptions o;
  o.topic = spec.path;
  std::string columns, event_time, watermark;
  for (const auto& [k, v] : spec.options) {
    const std::string what = "source " + spec.name + ": " + k;
    if (k == "brokers") {
      o.brokers = v;
    } else if (k == "group_id") {
      o.group = v;
    } else if (k == "start") {
      if (v == "earliest" || v == "latest" || v == "committed") {
        o.start = v;
      } else if (auto ms = ParseStartTime(v)) {
        // A time: each partition from its first message at or after it.
        o.start = "time";
        o.start_time_ms = *ms;
      } else {
        // partition:offset,...
        for (const auto& item : SplitCommas(v)) {
          const size_t colon = item.find(':');
          auto p = ParseIntOption(k, item.substr(0, colon));
          auto off = colon == std::string::npos
                         ? Result<int64_t>(Status::Invalid(""))
                         : ParseIntOption(k, item.substr(colon + 1));
          if (!p.ok() || !off.ok()) {
            return Status::Invalid(what,
                                   ": earliest, latest, committed, a time "
                                   "('2024-05-01 12:00:00', UTC) or "
                                   "partition:offset,... (got '",
                                   v, "')");
          }
          o.start_offsets[static_cast<int32_t>(*p)] = *off;
        }
      }
    } else if (k == "stop_at") {
      if (v != "end" && v != "never") return Status::Invalid(what, ": end or never");
      o.stop_at_end = v == "end";
    } else if (k == "columns") {
      columns = v;
    } else if (k == "value_format") {
      if (v == "raw") {
        o.raw = true;
      } else if (v == "csv") {
        o.csv = true;
      } else if (v != "json") {
        return Status::Invalid(what, ": json, csv or raw, not '", v, "'");
      }
    } else if (k == "metadata") {
      for (const auto& item : SplitCommas(v)) {
        if (item != "key" && item != "timestamp" && item != "partition" &&
            item != "offset" && item != "headers") {
          return Status::Invalid(
              what, ": key, timestamp, partition, offset or headers, not '", item, "'");
        }
        o.metadata.push_back(item);
      }
    } else if (k == "event_time") {
      event_time = v;
    } else if (k == "watermark") {
      ARROW_ASSIGN_OR_RAISE(o.watermark_us, ParseDurationMicros(v, what));
    } else if (k == "idle_timeout") {
      ARROW_ASSIGN_OR_RAISE(o.idle_timeout_us, ParseDurationMicros(v, what));
    } else if (k == "broker_timeout") {
      ARROW_ASSIGN_OR_RAISE(o.broker_timeout_us, ParseDurationMicros(v, what));
    } else if (k == "queue_kbytes") {
      ARROW_ASSIGN_OR_RAISE(o.queue_kbytes, ParseIntOption(k, v));
    } else if (k == "timeout") {
      ARROW_ASSIGN_OR_RAISE(int64_t us, ParseDurationMicros(v, what));
      o.timeout_ms = std::max<int64_t>(1, us / 1000);
    } else {
      return Status::Invalid("source ", spec.name, ": unknown option '", k,
                             "' for format kafka (brokers, group_id, start, stop_at, "
                             "columns, value_format, metadata, event_time, watermark, "
                             "idle_timeout, broker_timeout, queue_kbytes, timeout)");
    }
  }
  if (o.brokers.empty()) return Status::Invalid("source ", spec.name, ": needs brokers");
  if (o.start == "committed" && o.group.empty()) {
    return Status::Invalid("source ", spec.name,
                           ": start => committed needs a group_id (whose offsets)");
  }
  arrow::FieldVector fields;
  if (o.raw) {
    // One column, `value`: text unless the columns say binary.
    fields = {arrow::field("value", arrow::utf8())};
    if (!columns.empty()) {
      std::string c;
      for (char ch : columns) c.push_back(static_cast<char>(std::tolower(ch)));
      const auto first = c.find_first_not_of(' ');
      const auto last = c.find_last_not_of(' ');
      c = first == std::string::npos ? "" : c.substr(first, last - first + 1);
      if (c == "value blob" || c == "value binary" || c == "value bytea") {
        fields = {arrow::field("value", arrow::binary())};
      } else if (c != "value varchar" && c != "value text") {
        return Status::Invalid("source ", spec.name,
                               ": value_format raw has one column, text or binary "
                               "('value varchar' or 'value blob'), not '",
                               columns, "'");
      }
    }
  } else {
    if (columns.empty()) {
      return Status::Invalid("source ", spec.name,
                             ": needs columns (the JSON values' schema, e.g. 'id bigint, "
                             "ts timestamp')");
    }
    ARROW_ASSIGN_OR_RAISE(fields, ParseColumnList(columns));
  }
  o.value_schema = arrow::schema(fields);
  arrow::FieldVector all = fields;
  for (const auto& m : o.metadata) {
    if (m == "key") all.push_back(arrow::field("kafka_key", arrow::utf8()));
    if (m == "timestamp") {
      all.push_back(arrow::field("kafka_timestamp",
                                 arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")));
    }
    if (m == "partition") all.push_back(arrow::field("kafka_partition", arrow::int32()));
    if (m == "offset") all.push_back(arrow::field("kafka_offset", arrow::int64()));
    if (m == "headers") all.push_back(arrow::field("kafka_headers", arrow::utf8()));
  }
  auto schema = arrow::schema(all);
  if (!event_time.empty() || o.watermark_us >= 0) {
    if (event_time.empty() || o.watermark_us < 0) {
      return Status::Invalid("source ", spec.name,
                             ": event_time and watermark go together");
    }
    o.event_time = schema->GetFieldIndex(event_time);
    if (o.event_time < 0 ||
        schema->field(o.event_time)->type()->id() != arrow::Type::TIMESTAMP) {
      return Status::Invalid("source ", spec.name, ": event_time '", event_time,
                             "' must be a timestamp column");
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto policy, ParseOnError(spec.on_error));
  std::string rejects = spec.rejects_path;
  if (rejects.empty() && policy == OnError::kReject) {
    rejects = "kafka-" + o.topic + ".rejects.jsonl";
  }
  ARROW_ASSIGN_OR_RAISE(int partitions, PartitionCount(o));
  std::shared_ptr<BadRowHandler> bad_rows;
  if (policy == OnError::kReject && rejects.rfind("kafka:", 0) == 0) {
    // A dead-letter topic on the same brokers.
    ARROW_ASSIGN_OR_RAISE(
        auto dlq, OpenDeadLetterTopic(o.brokers, rejects.substr(6), o.timeout_ms));
    bad_rows = std::make_shared<BadRowHandler>(policy, std::move(dlq));
  } else {
    bad_rows = std::make_shared<BadRowHandler>(policy, rejects);
  }
  return std::make_shared<KafkaInput>(o, partitions, schema, std::move(bad_rows));
}

}  // namespace sluice::connector
