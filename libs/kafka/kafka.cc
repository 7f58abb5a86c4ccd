// TopicFor and the plain reading and writing of kafka.h (ReadAll, ProduceAll).

#include "libs/kafka/kafka.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/kafka/client.h"

namespace cowork::kafka {
namespace {

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

std::chrono::steady_clock::time_point DeadlineAfter(absl::Duration timeout) {
  return std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
}

}  // namespace

std::string ServiceOfTopic(absl::string_view topic) {
  if (!absl::ConsumePrefix(&topic, "cowork.") || !absl::ConsumeSuffix(&topic, ".events") ||
      topic.empty() || topic.find('.') != absl::string_view::npos) {
    return "";
  }
  return std::string(topic);
}

std::string TopicFor(absl::string_view service) {
  return absl::StrCat("cowork.", service, ".events");
}

std::string KeysTopicFor(absl::string_view service) {
  return absl::StrCat("cowork.", service, ".keys");
}

absl::StatusOr<std::vector<Message>> ReadAll(const KafkaOptions& kafka, const std::string& topic,
                                             absl::Duration timeout) {
  auto deadline = DeadlineAfter(timeout);
  // assign() needs a group id; it is never used to commit or to join a group.
  absl::StatusOr<std::unique_ptr<internal::Client>> client =
      internal::Client::Create(internal::Client::Kind::kConsumer, kafka, "kafka.read_all",
                               {{"group.id", "cowork.read_all"},
                                {"enable.auto.commit", "false"},
                                {"enable.auto.offset.store", "false"},
                                {"auto.offset.reset", "earliest"}});
  if (!client.ok()) return client.status();
  rd_kafka_t* rk = (*client)->get();

  absl::StatusOr<std::map<std::string, int>> topics =
      internal::TopicPartitions(rk, absl::Milliseconds(RemainingMs(deadline)));
  if (!topics.ok()) return topics.status();
  auto found = topics->find(topic);
  if (found == topics->end()) return absl::NotFoundError(absl::StrCat("no topic ", topic));

  // The end of each partition as of now: read up to it, not forever.
  std::vector<int64_t> end(found->second, 0);
  std::vector<int64_t> next(found->second, 0);
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(found->second);
  size_t unfinished = 0;
  for (int32_t p = 0; p < found->second; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, RemainingMs(deadline));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return internal::ErrorToStatus(err, absl::StrCat("watermarks of ", topic, "/", p));
    }
    end[p] = high;
    next[p] = low;
    if (high > low) {
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = low;
      ++unfinished;
    }
  }
  std::vector<Message> messages;
  if (unfinished == 0) {
    rd_kafka_topic_partition_list_destroy(assignment);
    return messages;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return internal::ErrorToStatus(err, "assign");

  while (unfinished > 0) {
    int wait = std::min(RemainingMs(deadline), 100);
    if (wait == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("read ", topic, ": ", messages.size(), " messages before the deadline"));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, wait);
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Transient fetch errors are retried by librdkafka; only the deadline ends the read.
      rd_kafka_message_destroy(m);
      continue;
    }
    int32_t p = m->partition;
    if (p >= 0 && p < static_cast<int32_t>(end.size()) && m->offset < end[p]) {
      Message out;
      out.topic = topic;
      out.partition = p;
      out.offset = m->offset;
      if (m->key != nullptr) out.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) {
        out.value.assign(static_cast<const char*>(m->payload), m->len);
      }
      out.tombstone = m->payload == nullptr;
      rd_kafka_timestamp_type_t type;
      int64_t ms = rd_kafka_message_timestamp(m, &type);
      out.timestamp = ms >= 0 ? absl::FromUnixMillis(ms) : absl::InfinitePast();
      messages.push_back(std::move(out));
      next[p] = m->offset + 1;
      if (next[p] >= end[p]) --unfinished;
    }
    rd_kafka_message_destroy(m);
  }
  std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return messages;
}

absl::Status ProduceAll(const KafkaOptions& kafka, const std::string& topic,
                        const std::vector<std::pair<std::string, std::string>>& key_values,
                        absl::Duration timeout) {
  auto deadline = DeadlineAfter(timeout);
  // Delivery reports run on this thread, inside rd_kafka_poll / rd_kafka_purge below.
  size_t outstanding = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string first_reason;
  absl::StatusOr<std::unique_ptr<internal::Client>> client =
      internal::Client::Create(internal::Client::Kind::kProducer, kafka, "kafka.produce_all",
                               internal::ProducerProperties(absl::Milliseconds(1), timeout),
                               [&](void*, int err, absl::string_view reason) {
                                 --outstanding;
                                 if (err != 0 && first_error == RD_KAFKA_RESP_ERR_NO_ERROR) {
                                   first_error = static_cast<rd_kafka_resp_err_t>(err);
                                   first_reason = std::string(reason);
                                 }
                               });
  if (!client.ok()) return client.status();
  rd_kafka_t* rk = (*client)->get();
  internal::LearnTopic(rk, topic, absl::Milliseconds(std::min(RemainingMs(deadline), 1000)));

  for (const auto& [key, value] : key_values) {
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++outstanding;
        break;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || RemainingMs(deadline) == 0) {
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk, 0);
        return internal::ErrorToStatus(err, absl::StrCat("produce to ", topic));
      }
      rd_kafka_poll(rk, 10);
    }
  }
  while (outstanding > 0 && RemainingMs(deadline) > 0) {
    rd_kafka_poll(rk, std::min(RemainingMs(deadline), 100));
  }
  if (outstanding > 0) {
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
    return absl::DeadlineExceededError(
        absl::StrCat("produce to ", topic, ": delivery reports missing at the deadline"));
  }
  if (first_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return internal::ErrorToStatus(first_error,
                                   absl::StrCat("produce to ", topic, " (", first_reason, ")"));
  }
  return absl::OkStatus();
}

}  // namespace cowork::kafka
