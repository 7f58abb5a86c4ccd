#include "tools/loadgen/event_watch.h"

#include <librdkafka/rdkafka.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cowork/common/v1/envelope.pb.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"

namespace cowork::loadgen {

struct EventWatch::Impl {
  rd_kafka_t* consumer = nullptr;
  ~Impl() {
    if (consumer != nullptr) {
      rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
    }
  }
};

absl::StatusOr<std::unique_ptr<EventWatch>> EventWatch::Start(const EventWatchOptions& options) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // No group membership: partitions are assigned by hand and nothing is committed; the
  // group id only satisfies librdkafka's consumer setup.
  const std::pair<const char*, std::string> props[] = {
      {"bootstrap.servers", options.brokers},
      {"group.id", "cowork-loadgen-" + crypto::NewUuid()},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"client.id", "cowork-loadgen"},
      {"fetch.wait.max.ms", "2"},  // bounds what the watcher itself adds to latency
      {"fetch.error.backoff.ms", "10"},
      {"log_level", "3"},
  };
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka ", key, ": ", err));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (impl->consumer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  }

  // The topic's partitions, from metadata (the dev broker creates the topics at start).
  rd_kafka_topic_t* topic = rd_kafka_topic_new(impl->consumer, options.topic.c_str(), nullptr);
  int partitions = 0;
  const absl::Time deadline = RealClock::Get().Now() + options.timeout;
  std::string last_error = "no partitions";
  while (partitions == 0 && RealClock::Get().Now() < deadline) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(impl->consumer, 0, topic, &md, 2000);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        partitions = md->topics[0].partition_cnt;
      } else if (md->topic_cnt == 1) {
        last_error = rd_kafka_err2str(md->topics[0].err);
      }
      rd_kafka_metadata_destroy(md);
    } else {
      last_error = rd_kafka_err2str(e);
    }
  }
  rd_kafka_topic_destroy(topic);
  if (partitions == 0) {
    return absl::UnavailableError(
        absl::StrCat("topic ", options.topic, " at ", options.brokers, ": ", last_error));
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, options.topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_END;
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(impl->consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("assign: ", rd_kafka_err2str(e)));
  }
  std::unique_ptr<EventWatch> watch(new EventWatch(std::move(impl)));
  watch->thread_ = std::thread([w = watch.get()] { w->Loop(); });
  return watch;
}

EventWatch::EventWatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventWatch::~EventWatch() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void EventWatch::SetWindow(absl::Time from, absl::Time to) {
  absl::MutexLock lock(&mu_);
  from_ = from;
  to_ = to;
}

void EventWatch::Loop() {
  common::v1::EventEnvelope envelope;
  while (!stop_.load(std::memory_order_relaxed)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->consumer, 100);
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Partition EOF and transient errors: the consumer carries on by itself.
      rd_kafka_message_destroy(m);
      continue;
    }
    const absl::Time now = RealClock::Get().Now();
    received_.fetch_add(1, std::memory_order_relaxed);
    ++result_.received;
    absl::Time from;
    absl::Time to;
    {
      absl::MutexLock lock(&mu_);
      from = from_;
      to = to_;
    }
    if (now >= from && now < to) ++result_.received_in_window;
    if (envelope.ParseFromArray(m->payload, static_cast<int>(m->len)) &&
        envelope.has_occurred_at()) {
      const absl::Time occurred = absl::FromUnixSeconds(envelope.occurred_at().seconds()) +
                                  absl::Nanoseconds(envelope.occurred_at().nanos());
      if (occurred >= from && occurred < to) result_.latency.Add(now - occurred);
    } else {
      ++result_.undecodable;
    }
    rd_kafka_message_destroy(m);
  }
}

EventWatch::Result EventWatch::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return std::move(result_);
}

}  // namespace cowork::loadgen
