#include "libs/kafka/dev_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/kafka/client.h"

namespace cowork::kafka {

struct DevBroker::Impl {
  DevBrokerOptions options;
  // The mock cluster lives inside this client handle and dies with it.
  std::unique_ptr<internal::Client> host;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
  absl::Mutex mu;  // serialises commands to the mock
  std::vector<std::pair<std::string, int>> topics ABSL_GUARDED_BY(mu);  // created, partitions
  std::unique_ptr<internal::Client> reader ABSL_GUARDED_BY(mu);         // asks for watermarks

  ~Impl() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
  }

  absl::Status SetAll(bool up) {
    absl::MutexLock lock(&mu);
    // The mock numbers its brokers 1..N.
    for (int id = 1; id <= options.brokers; ++id) {
      rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(cluster, id)
                                   : rd_kafka_mock_broker_set_down(cluster, id);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::InternalError(
            absl::StrCat("dev broker ", id, up ? " up: " : " down: ", rd_kafka_err2str(err)));
      }
    }
    return absl::OkStatus();
  }
};

DevBroker::DevBroker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DevBroker::~DevBroker() = default;

absl::StatusOr<std::unique_ptr<DevBroker>> DevBroker::Start(const DevBrokerOptions& options) {
  if (options.brokers < 1) return absl::InvalidArgumentError("dev broker: brokers must be >= 1");
  if (options.partitions < 1) {
    return absl::InvalidArgumentError("dev broker: partitions must be >= 1");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // A producer handle without brokers only hosts the mock; it never connects anywhere.
  absl::StatusOr<std::unique_ptr<internal::Client>> host = internal::Client::Create(
      internal::Client::Kind::kProducer, KafkaOptions{.client_id = "cowork-devbroker"},
      "kafka.devbroker", {});
  if (!host.ok()) return host.status();
  impl->host = *std::move(host);
  impl->cluster = rd_kafka_mock_cluster_new(impl->host->get(), options.brokers);
  if (impl->cluster == nullptr) {
    return absl::InternalError("dev broker: rd_kafka_mock_cluster_new failed");
  }
  impl->bootstrap = rd_kafka_mock_cluster_bootstraps(impl->cluster);
  std::unique_ptr<DevBroker> broker(new DevBroker(std::move(impl)));
  for (const std::string& topic : options.topics) {
    absl::Status status = broker->CreateTopic(topic, options.partitions);
    if (!status.ok()) return status;
  }
  return broker;
}

const std::string& DevBroker::bootstrap() const { return impl_->bootstrap; }
int DevBroker::brokers() const { return impl_->options.brokers; }

absl::Status DevBroker::CreateTopic(absl::string_view topic, int partitions) {
  if (partitions <= 0) partitions = impl_->options.partitions;
  // Replicas never outnumber brokers; three is what a real cluster would use.
  int replication = std::min(impl_->options.brokers, 3);
  std::string name(topic);
  absl::MutexLock lock(&impl_->mu);
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(impl_->cluster, name.c_str(), partitions, replication);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("dev broker: create topic ", name, ": ", rd_kafka_err2str(err)));
  }
  impl_->topics.emplace_back(std::move(name), partitions);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DevBroker::PartitionStart>> DevBroker::PartitionStarts() {
  absl::MutexLock lock(&impl_->mu);
  if (impl_->reader == nullptr) {
    // Any handle may ask for watermarks; a producer needs no consumer group.
    absl::StatusOr<std::unique_ptr<internal::Client>> reader = internal::Client::Create(
        internal::Client::Kind::kProducer,
        KafkaOptions{.brokers = impl_->bootstrap, .client_id = "cowork-devbroker-watch"},
        "kafka.devbroker", {});
    if (!reader.ok()) return reader.status();
    impl_->reader = *std::move(reader);
  }
  std::vector<PartitionStart> out;
  for (const auto& [topic, partitions] : impl_->topics) {
    for (int32_t p = 0; p < partitions; ++p) {
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
          impl_->reader->get(), topic.c_str(), p, &low, &high, /*timeout_ms=*/500);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(
            absl::StrCat("dev broker: watermarks of ", topic, "/", p, ": ", rd_kafka_err2str(err)));
      }
      out.push_back({topic, p, low});
    }
  }
  return out;
}

absl::Status DevBroker::FailProduceRequests(int count) {
  if (count <= 0) return absl::OkStatus();
  std::vector<rd_kafka_resp_err_t> errors(count, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  absl::MutexLock lock(&impl_->mu);
  // ApiKey 0 is Produce.
  rd_kafka_mock_push_request_errors_array(impl_->cluster, /*ApiKey=*/0, errors.size(),
                                          errors.data());
  return absl::OkStatus();
}

absl::Status DevBroker::SetDown() { return impl_->SetAll(false); }
absl::Status DevBroker::SetUp() { return impl_->SetAll(true); }

}  // namespace cowork::kafka
