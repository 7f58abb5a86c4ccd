#include "libs/kafka/topic_stream.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/kafka/client.h"

namespace cowork::kafka {
namespace {

// How long one poll waits while nothing arrives: bounds how late `stop` is asked.
constexpr int kPollMs = 100;

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

}  // namespace

struct TopicStream::Impl {
  struct Partition {
    int64_t start = 0;
    int64_t end = 0;    // the high watermark at Open
    int64_t next = 0;   // the next offset expected
    bool done = false;  // next reached end
    // kTime without an offset from the cluster: messages published before options.start.time
    // are dropped until the first one at or after it.
    bool before_time = false;
  };

  StreamOptions options;
  std::unique_ptr<internal::Client> client;
  // partitions[i][p]: partition p of options.topics[i].
  std::vector<std::vector<Partition>> partitions;
  int64_t backlog = 0;
  int64_t consumed = 0;
  size_t unfinished = 0;  // partitions not done

  // The index in options.topics of the message's topic (a handful of topics: a linear search
  // is cheaper than hashing the name).
  int TopicIndex(const rd_kafka_message_t* m) const {
    const char* name = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < options.topics.size(); ++i) {
      if (std::strcmp(options.topics[i].c_str(), name) == 0) return static_cast<int>(i);
    }
    return -1;
  }

  Partition* Find(const rd_kafka_message_t* m) {
    const int topic = TopicIndex(m);
    if (topic < 0 || m->partition < 0 ||
        m->partition >= static_cast<int32_t>(partitions[topic].size())) {
      return nullptr;
    }
    return &partitions[topic][m->partition];
  }

  void Reached(Partition& p, int64_t next) {
    p.next = std::max(p.next, next);
    if (!p.done && p.next >= p.end) {
      p.done = true;
      --unfinished;
    }
  }
};

TopicStream::TopicStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TopicStream::~TopicStream() = default;

absl::StatusOr<std::unique_ptr<TopicStream>> TopicStream::Open(const KafkaOptions& kafka,
                                                               const StreamOptions& options) {
  if (options.topics.empty()) return absl::InvalidArgumentError("topic stream: no topics");
  if (kafka.brokers.empty()) return absl::InvalidArgumentError("topic stream: no brokers");
  if (options.start.offset < 0) {
    return absl::InvalidArgumentError("topic stream: the start offset must be >= 0");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // assign() needs a group id; it never joins the group and never commits.
  absl::StatusOr<std::unique_ptr<internal::Client>> client = internal::Client::Create(
      internal::Client::Kind::kConsumer, kafka, "kafka.stream",
      {{"group.id", "cowork.topic_stream"},
       {"enable.auto.commit", "false"},
       {"enable.auto.offset.store", "false"},
       {"auto.offset.reset", "earliest"},
       {"enable.partition.eof", "true"},
       // While following, a message on an idle partition is seen within this (the dev broker
       // answers a waiting fetch only at its deadline).
       {"fetch.wait.max.ms", "100"}});
  if (!client.ok()) return client.status();
  impl->client = *std::move(client);
  rd_kafka_t* rk = impl->client->get();

  absl::StatusOr<std::map<std::string, int>> known =
      internal::TopicPartitions(rk, options.timeout);
  if (!known.ok()) return known.status();
  for (const std::string& topic : options.topics) {
    auto found = known->find(topic);
    if (found == known->end()) return absl::NotFoundError(absl::StrCat("no topic ", topic));
    std::vector<Impl::Partition> partitions(found->second);
    for (int32_t p = 0; p < found->second; ++p) {
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low,
                                                                 &high, Millis(options.timeout));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return internal::ErrorToStatus(err, absl::StrCat("watermarks of ", topic, "/", p));
      }
      Impl::Partition& partition = partitions[p];
      partition.end = high;
      switch (options.start.kind) {
        case StreamStart::Kind::kBeginning:
        case StreamStart::Kind::kTime:  // until the cluster says better, below
          partition.start = low;
          break;
        case StreamStart::Kind::kOffset:
          partition.start = std::clamp(options.start.offset, low, high);
          break;
        case StreamStart::Kind::kTail:
          partition.start = std::max(low, high - options.start.offset);
          break;
      }
    }
    impl->partitions.push_back(std::move(partitions));
  }

  if (options.start.kind == StreamStart::Kind::kTime) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(0);
    for (size_t t = 0; t < options.topics.size(); ++t) {
      for (size_t p = 0; p < impl->partitions[t].size(); ++p) {
        rd_kafka_topic_partition_list_add(list, options.topics[t].c_str(),
                                          static_cast<int32_t>(p))
            ->offset = absl::ToUnixMillis(options.start.time);
      }
    }
    // A failed lookup leaves every partition to the dropping below: slower, same result.
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, Millis(options.timeout));
    size_t i = 0;
    for (size_t t = 0; t < options.topics.size(); ++t) {
      for (Impl::Partition& partition : impl->partitions[t]) {
        const rd_kafka_topic_partition_t& found = list->elems[i++];
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR && found.err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            found.offset >= partition.start && found.offset <= partition.end) {
          partition.start = found.offset;
        } else {
          partition.before_time = true;
        }
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(0);
  for (size_t t = 0; t < options.topics.size(); ++t) {
    for (size_t p = 0; p < impl->partitions[t].size(); ++p) {
      Impl::Partition& partition = impl->partitions[t][p];
      partition.next = partition.start;
      partition.done = partition.start >= partition.end;
      if (!partition.done) {
        impl->backlog += partition.end - partition.start;
        ++impl->unfinished;
      }
      if (!partition.done || options.follow) {
        rd_kafka_topic_partition_list_add(assignment, options.topics[t].c_str(),
                                          static_cast<int32_t>(p))
            ->offset = partition.start;
      }
    }
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return internal::ErrorToStatus(err, "assign");
  return std::unique_ptr<TopicStream>(new TopicStream(std::move(impl)));
}

int64_t TopicStream::backlog() const { return impl_->backlog; }
int64_t TopicStream::consumed() const { return impl_->consumed; }
bool TopicStream::caught_up() const { return impl_->unfinished == 0; }

std::vector<int64_t> TopicStream::starts(size_t topic) const {
  std::vector<int64_t> out;
  for (const Impl::Partition& p : impl_->partitions.at(topic)) out.push_back(p.start);
  return out;
}

absl::Status TopicStream::Run(const std::function<absl::Status(const Message&)>& on_message,
                              const std::function<bool()>& stop) {
  Impl& s = *impl_;
  const int64_t time_ms = absl::ToUnixMillis(s.options.start.time);
  Message message;  // reused: its strings keep their capacity from one message to the next
  while (s.options.follow || s.unfinished > 0) {
    if (stop && stop()) return absl::CancelledError("stopped");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(s.client->get(), kPollMs);
    if (m == nullptr) continue;
    Impl::Partition* partition = s.Find(m);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (partition != nullptr) s.Reached(*partition, m->offset);
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || partition == nullptr) {
      // Transient fetch errors are retried by librdkafka (and logged by its error callback).
      rd_kafka_message_destroy(m);
      continue;
    }
    ++s.consumed;
    rd_kafka_timestamp_type_t type;
    const int64_t ms = rd_kafka_message_timestamp(m, &type);
    if (partition->before_time && ms >= 0 && ms < time_ms) {
      s.Reached(*partition, m->offset + 1);
      rd_kafka_message_destroy(m);
      continue;
    }
    partition->before_time = false;  // Kafka's semantics: everything after the first one
    message.topic = rd_kafka_topic_name(m->rkt);
    message.partition = m->partition;
    message.offset = m->offset;
    message.key.assign(m->key != nullptr ? static_cast<const char*>(m->key) : "",
                       m->key != nullptr ? m->key_len : 0);
    message.value.assign(m->payload != nullptr ? static_cast<const char*>(m->payload) : "",
                         m->payload != nullptr ? m->len : 0);
    message.tombstone = m->payload == nullptr;
    message.timestamp = ms >= 0 ? absl::FromUnixMillis(ms) : absl::InfinitePast();
    s.Reached(*partition, m->offset + 1);
    rd_kafka_message_destroy(m);
    if (absl::Status handled = on_message(message); !handled.ok()) return handled;
  }
  return absl::OkStatus();
}

}  // namespace cowork::kafka
