#include "sluice/connector/kafka/kafka_dead_letter.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <mutex>

#include "sluice/connector/kafka/kafka_common.h"

namespace sluice::connector {

namespace {

class DeadLetterTopic : public RejectsOutput {
 public:
  DeadLetterTopic(std::string brokers, std::string topic, int64_t timeout_ms)
      : brokers_(std::move(brokers)), topic_(std::move(topic)), timeout_ms_(timeout_ms) {}
  ~DeadLetterTopic() override {
    if (producer_ != nullptr) {
      rd_kafka_flush(producer_, 1000);
      rd_kafka_destroy(producer_);
    }
  }

  Status Open() {
    ARROW_ASSIGN_OR_RAISE(producer_, NewProducer(brokers_, 4096, timeout_ms_,
                                                 DeliveryReports::OnDelivery, &reports_));
    return TopicPartitions(producer_, topic_, brokers_, timeout_ms_).status();
  }

  Status Write(const std::string& json, const BadRow& row) override {
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic_.c_str()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(json.data()), json.size()),
          RD_KAFKA_V_KEY(row.source.data(), row.source.size()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return Status::IOError("dead-letter topic '", topic_,
                               "': cannot produce: ", rd_kafka_err2str(e));
      }
      rd_kafka_poll(producer_, 100);  // wait for deliveries
    }
    rd_kafka_poll(producer_, 0);
    return Failures();
  }

  Status Close() override {
    rd_kafka_resp_err_t e =
        rd_kafka_flush(producer_, static_cast<int>(timeout_ms_ + 5000));
    ARROW_RETURN_NOT_OK(Failures());
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError(
          "dead-letter topic '", topic_, "': ", rd_kafka_outq_len(producer_),
          " rejected messages still undelivered: ", rd_kafka_err2str(e));
    }
    return Status::OK();
  }

  std::string Describe() const override { return "kafka topic " + topic_; }

 private:
  Status Failures() const {
    return reports_.Failures("dead-letter topic '" + topic_ + "'", "rejected messages");
  }

  std::string brokers_;
  std::string topic_;
  int64_t timeout_ms_;
  DeliveryReports reports_;
  rd_kafka_t* producer_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<RejectsOutput>> OpenDeadLetterTopic(const std::string& brokers,
                                                           const std::string& topic,
                                                           int64_t timeout_ms) {
  auto out = std::make_unique<DeadLetterTopic>(brokers, topic, timeout_ms);
  ARROW_RETURN_NOT_OK(out->Open());
  return std::unique_ptr<RejectsOutput>(std::move(out));
}

}  // namespace sluice::connector
