#include "libs/kafka/client.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace cowork::kafka::internal {
namespace {

void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// The same librdkafka complaint repeats on every reconnect attempt during an outage; one line
// per kind and window is enough to see the outage without flooding the log.
constexpr std::chrono::seconds kRepeatWindow(10);

}  // namespace

void LogJson(absl::string_view level, absl::string_view component, absl::string_view message,
             const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = "{\"level\":";
  AppendJsonString(line, level);
  line += ",\"component\":";
  AppendJsonString(line, component);
  line += ",\"msg\":";
  AppendJsonString(line, message);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendJsonString(line, key);
    line.push_back(':');
    AppendJsonString(line, value);
  }
  line += "}\n";
  // One write per line so concurrent lines do not interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

absl::Status ErrorToStatus(int err, absl::string_view context) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", rd_kafka_err2str(code));
  switch (code) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
      return absl::UnavailableError(message);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return absl::CancelledError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

std::map<std::string, std::string> ProducerProperties(absl::Duration linger,
                                                      absl::Duration message_timeout) {
  return {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"compression.type", "lz4"},
      {"linger.ms", absl::StrCat(absl::ToInt64Milliseconds(linger))},
      {"message.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(message_timeout))},
  };
}

absl::StatusOr<std::map<std::string, int>> TopicPartitions(rd_kafka_t* rk, absl::Duration timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &metadata,
                                              static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorToStatus(err, "kafka metadata");
  std::map<std::string, int> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || topic.partition_cnt <= 0) continue;
    topics[topic.topic] = topic.partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  return topics;
}

void LearnTopic(rd_kafka_t* rk, const std::string& topic, absl::Duration timeout) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr) return;
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &metadata,
                        static_cast<int>(absl::ToInt64Milliseconds(timeout))) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(rkt);
}

struct Client::Callbacks {
  std::string component;
  int max_log_level = 4;  // warnings; everything when the operator asked for debug logs
  DeliveryFn on_delivery;

  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::chrono::steady_clock::time_point> last_logged
      ABSL_GUARDED_BY(mu);

  // true when `kind` was not logged within the repeat window.
  bool ShouldLog(const std::string& kind) {
    auto now = std::chrono::steady_clock::now();
    absl::MutexLock lock(&mu);
    auto [it, inserted] = last_logged.try_emplace(kind, now);
    if (inserted) return true;
    if (now - it->second < kRepeatWindow) return false;
    it->second = now;
    return true;
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<Callbacks*>(opaque);
    if (self->on_delivery) {
      self->on_delivery(message->_private, message->err,
                        message->err ? rd_kafka_err2str(message->err) : "");
    }
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Callbacks*>(opaque);
    auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      char fatal[512] = {0};
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
      LogJson("error", self->component, "fatal kafka client error",
              {{"error", rd_kafka_err2name(orig)}, {"detail", fatal}});
      return;
    }
    if (!self->ShouldLog(absl::StrCat("err:", err))) return;
    LogJson(code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? "error" : "warning", self->component,
            "kafka client error", {{"error", rd_kafka_err2name(code)}, {"detail", reason}});
  }

  static void OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    // librdkafka's debug and info chatter stays out of the service log (unless the `debug`
    // property asks for it); warnings and errors come through, rate-limited.
    auto* self = static_cast<Callbacks*>(rd_kafka_opaque(rk));
    if (self == nullptr || level > self->max_log_level) return;
    if (self->max_log_level <= 4 && !self->ShouldLog(absl::StrCat("log:", fac))) return;
    LogJson(level <= 3 ? "error" : "warning", self->component, "librdkafka",
            {{"facility", fac}, {"detail", buf}});
  }
};

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    Kind kind, const KafkaOptions& kafka, std::string component,
    const std::map<std::string, std::string>& overrides, DeliveryFn on_delivery) {
  std::unique_ptr<Client> client(new Client());
  client->component_ = component;
  client->callbacks_ = std::make_unique<Callbacks>();
  client->callbacks_->component = std::move(component);
  client->callbacks_->on_delivery = std::move(on_delivery);

  std::map<std::string, std::string> properties = {
      // A broker that comes back is found within a second instead of librdkafka's default
      // of up to ten; outages in this suite are expected and rehearsed.
      {"reconnect.backoff.ms", "50"},
      {"reconnect.backoff.max.ms", "1000"},
      {"topic.metadata.refresh.interval.ms", "10000"},
  };
  if (!kafka.brokers.empty()) properties["bootstrap.servers"] = kafka.brokers;
  if (!kafka.client_id.empty()) properties["client.id"] = kafka.client_id;
  for (const auto& [k, v] : overrides) properties[k] = v;
  for (const auto& [k, v] : kafka.properties) properties[k] = v;
  if (auto debug = properties.find("debug"); debug != properties.end() && !debug->second.empty()) {
    client->callbacks_->max_log_level = 7;
  }

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [k, v] : properties) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", k, ": ", errstr));
    }
  }
  rd_kafka_conf_set_opaque(conf, client->callbacks_.get());
  rd_kafka_conf_set_error_cb(conf, &Callbacks::OnError);
  rd_kafka_conf_set_log_cb(conf, &Callbacks::OnLog);
  if (kind == Kind::kProducer) rd_kafka_conf_set_dr_msg_cb(conf, &Callbacks::OnDelivery);

  rd_kafka_t* rk = rd_kafka_new(kind == Kind::kProducer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER,
                                conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    // rd_kafka_new keeps ownership of conf only on success.
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka client: ", errstr));
  }
  client->rk_ = rk;
  return client;
}

Client::~Client() {
  if (rk_ != nullptr) rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

}  // namespace cowork::kafka::internal
