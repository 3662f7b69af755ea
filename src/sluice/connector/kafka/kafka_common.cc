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

}  // namespace sluice::connector
