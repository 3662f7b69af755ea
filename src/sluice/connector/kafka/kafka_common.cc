#include "sluice/connector/kafka/kafka_common.h"

namespace sluice::connector {

Result<rd_kafka_conf_t*> MakeKafkaConf(
    const std::vector<std::pair<std::string, std::string>>& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::Invalid("kafka setting ", k, "=", v, ": ", err);
    }
  }
  return conf;
}

Result<int> TopicPartitions(rd_kafka_t* rk, const std::string& topic,
                            const std::string& brokers, int64_t timeout_ms) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, static_cast<int>(timeout_ms));
  rd_kafka_topic_destroy(t);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::IOError("kafka topic '", topic, "' at ", brokers,
                           ": cannot read its metadata: ", rd_kafka_err2str(e));
  }
  int partitions = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (md->topic_cnt == 1) {
    partitions = md->topics[0].partition_cnt;
    topic_err = md->topics[0].err;
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || partitions == 0) {
    return Status::IOError("kafka topic '", topic, "' at ", brokers, ": ",
                           topic_err != RD_KAFKA_RESP_ERR_NO_ERROR
                               ? rd_kafka_err2str(topic_err)
                               : "no partitions");
  }
  return partitions;
}

void DeliveryReports::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<DeliveryReports*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_ += 1;
    return;
  }
  std::lock_guard<std::mutex> lock(self->mu_);
  if (self->first_error_.empty()) self->first_error_ = rd_kafka_err2str(m->err);
  self->failed_ += 1;
}

Status DeliveryReports::Failures(const std::string& where,
                                 const std::string& what) const {
  if (failed_.load() == 0) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  return Status::IOError(where, ": ", failed_.load(), " ", what,
                         " not delivered: ", first_error_);
}

Result<rd_kafka_t*> NewProducer(
    const std::string& brokers, int64_t queue_kbytes, int64_t delivery_timeout_ms,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*), void* opaque) {
  ARROW_ASSIGN_OR_RAISE(
      rd_kafka_conf_t * conf,
      MakeKafkaConf({{"bootstrap.servers", brokers},
                     {"acks", "all"},
                     {"enable.idempotence", "true"},
                     {"partitioner", "murmur2_random"},
                     {"linger.ms", "5"},
                     {"queue.buffering.max.kbytes", std::to_string(queue_kbytes)},
                     {"message.timeout.ms", std::to_string(delivery_timeout_ms)},
                     {"log_level", "3"}}));
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, opaque);
  char err[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::IOError("kafka: cannot create a producer: ", err);
  }
  return producer;
}

}  // namespace sluice::connector
