#include "tests/support/e2e.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/eventstore/key_vault.h"
#include "libs/eventstore/store.h"

namespace cowork::e2e {
namespace {

using customers::v1::AddCustomerRequest;
using customers::v1::Customer;

class Deadline {
 public:
  explicit Deadline(absl::Duration timeout)
      : end_(std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout)) {}
  bool Passed() const { return std::chrono::steady_clock::now() >= end_; }
  // Milliseconds left, at least 1 (librdkafka treats 0 as "do not wait").
  int RemainingMs() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    end_ - std::chrono::steady_clock::now())
                    .count();
    return static_cast<int>(std::max<int64_t>(1, left));
  }

 private:
  std::chrono::steady_clock::time_point end_;
};

// Owns a consumer handle.
struct Consumer {
  rd_kafka_t* rk = nullptr;
  ~Consumer() {
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// The partition count of `topic` from the cluster's metadata.
absl::StatusOr<int> TopicPartitions(rd_kafka_t* rk, const std::string& topic,
                                    const std::string& bootstrap, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("metadata of ", topic, " from ", bootstrap, ": ", rd_kafka_err2str(e)));
  }
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string why = md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "no topic";
    rd_kafka_metadata_destroy(md);
    return absl::NotFoundError(absl::StrCat("topic ", topic, ": ", why));
  }
  int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  return partitions;
}

}  // namespace

// ---------------------------------------------------------------- plain Kafka reading

absl::StatusOr<int> PartitionCount(const std::string& bootstrap, absl::string_view topic,
                                   absl::Duration timeout) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err)) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_conf_set: ", err));
  }
  Consumer consumer;
  consumer.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (consumer.rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));
  }
  return TopicPartitions(consumer.rk, std::string(topic), bootstrap,
                         static_cast<int>(absl::ToInt64Milliseconds(timeout)));
}

absl::StatusOr<std::vector<RawMessage>> ReadTopicFromZero(const std::string& bootstrap,
                                                          absl::string_view topic_view,
                                                          absl::Duration timeout) {
  const std::string topic(topic_view);
  const Deadline deadline(timeout);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, const char*> props[] = {
      {"bootstrap.servers", bootstrap.c_str()},
      // Never joins the group (assign() only) and never commits: the id is only required by
      // librdkafka's consumer API.
      {"group.id", "cowork-e2e-plain-reader"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"client.id", "cowork-e2e-reader"},
      // Quiet while a test takes the brokers down on purpose.
      {"log_level", "3"},
  };
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InternalError(absl::StrCat("rd_kafka_conf_set ", k, ": ", err));
    }
  }
  Consumer consumer;
  consumer.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (consumer.rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));
  }
  rd_kafka_t* rk = consumer.rk;

  absl::StatusOr<int> partition_count =
      TopicPartitions(rk, topic, bootstrap, deadline.RemainingMs());
  if (!partition_count.ok()) return partition_count.status();
  const int partitions = *partition_count;

  // Where each partition ends now.
  std::map<int32_t, int64_t> high;  // partitions still to read -> high watermark
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, deadline.RemainingMs());
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return absl::UnavailableError(absl::StrCat("watermarks of ", topic, "[", p,
                                                 "]: ", rd_kafka_err2str(e)));
    }
    if (hi > lo) {
      high[p] = hi;
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = lo;
    }
  }
  std::vector<RawMessage> out;
  if (high.empty()) {
    rd_kafka_topic_partition_list_destroy(assignment);
    return out;
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("assign: ", rd_kafka_err2str(e)));
  }

  std::string last_error;
  while (!high.empty()) {
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(
          absl::StrCat("reading ", topic, ": ", high.size(), " partition(s) not read to the end",
                       last_error.empty() ? "" : "; last error: ", last_error));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, std::min(100, deadline.RemainingMs()));
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      auto it = high.find(m->partition);
      if (it != high.end() && m->offset >= it->second) high.erase(it);
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_message_errstr(m);
    } else {
      auto it = high.find(m->partition);
      if (it != high.end() && m->offset < it->second) {
        RawMessage raw;
        raw.partition = m->partition;
        raw.offset = m->offset;
        if (m->key != nullptr) raw.key.assign(static_cast<const char*>(m->key), m->key_len);
        if (m->payload != nullptr) {
          raw.value.assign(static_cast<const char*>(m->payload), m->len);
        }
        out.push_back(std::move(raw));
        if (m->offset + 1 >= it->second) high.erase(it);
      }
    }
    rd_kafka_message_destroy(m);
  }
  std::sort(out.begin(), out.end(), [](const RawMessage& a, const RawMessage& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return out;
}

absl::Status ProduceToPartition(const std::string& bootstrap, absl::string_view topic,
                                int32_t partition,
                                const std::vector<std::pair<std::string, std::string>>& key_values,
                                absl::Duration timeout) {
  const Deadline deadline(timeout);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, const char*> props[] = {
      {"bootstrap.servers", bootstrap.c_str()},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"client.id", "cowork-e2e-producer"},
      {"log_level", "3"},
  };
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InternalError(absl::StrCat("rd_kafka_conf_set ", k, ": ", err));
    }
  }
  struct Reports {
    int delivered = 0;
    std::string error;
  } reports;
  rd_kafka_conf_set_opaque(conf, &reports);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* r = static_cast<Reports*>(opaque);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++r->delivered;
    } else {
      r->error = rd_kafka_err2str(m->err);
    }
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));
  }
  const std::string topic_name(topic);
  absl::Status status = absl::OkStatus();
  for (const auto& [key, value] : key_values) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic_name.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = absl::UnavailableError(absl::StrCat("produce: ", rd_kafka_err2str(e)));
      break;
    }
  }
  rd_kafka_flush(rk, deadline.RemainingMs());
  // Whatever is still queued after the deadline is dropped, so destroy does not wait for it.
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_destroy(rk);
  if (!status.ok()) return status;
  if (!reports.error.empty()) return absl::UnavailableError("delivery: " + reports.error);
  if (reports.delivered != static_cast<int>(key_values.size())) {
    return absl::UnavailableError(absl::StrCat(reports.delivered, " of ", key_values.size(),
                                               " messages delivered in time"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& bootstrap, absl::string_view topic,
                                              absl::Duration timeout) {
  absl::StatusOr<std::vector<RawMessage>> raw = ReadTopicFromZero(bootstrap, topic, timeout);
  if (!raw.ok()) return raw.status();
  std::vector<Event> events;
  events.reserve(raw->size());
  for (RawMessage& m : *raw) {
    Event e;
    if (!e.envelope.ParseFromString(m.value)) {
      return absl::DataLossError(absl::StrCat("message at ", topic, "[", m.partition, "]@",
                                              m.offset, " is not an EventEnvelope"));
    }
    absl::string_view url = e.envelope.payload().type_url();
    if (absl::StartsWith(url, kTypeUrlPrefix)) url.remove_prefix(kTypeUrlPrefix.size());
    e.type = std::string(url);
    e.raw = std::move(m);
    events.push_back(std::move(e));
  }
  return events;
}

absl::StatusOr<std::vector<Event>> WaitForEvents(
    const std::string& bootstrap, absl::string_view topic,
    const std::function<bool(const std::vector<Event>&)>& done, absl::Duration timeout,
    absl::string_view what) {
  const Deadline deadline(timeout);
  absl::Status last = absl::OkStatus();
  size_t seen = 0;
  while (true) {
    absl::StatusOr<std::vector<Event>> events = ReadEvents(bootstrap, topic, absl::Seconds(10));
    if (events.ok()) {
      if (done(*events)) return events;
      seen = events->size();
    } else {
      last = events.status();
    }
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "timed out after ", absl::FormatDuration(timeout), " waiting on ", topic, " for ", what,
          " (", seen, " events seen", last.ok() ? "" : "; last read error: ",
          last.ok() ? "" : last.ToString(), ")"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

std::vector<Event> EventsOf(const std::vector<Event>& events, absl::string_view aggregate_id) {
  std::vector<Event> out;
  for (const Event& e : events) {
    if (e.envelope.aggregate_id() == aggregate_id) out.push_back(e);
  }
  return out;
}

int CountOf(const std::vector<Event>& events, absl::string_view aggregate_id,
            absl::string_view type) {
  int n = 0;
  for (const Event& e : events) {
    if (e.envelope.aggregate_id() == aggregate_id &&
        absl::EndsWith(e.type, absl::StrCat(".", type))) {
      ++n;
    }
  }
  return n;
}

int FindBytes(const std::vector<RawMessage>& messages, absl::string_view needle) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (absl::StrContains(messages[i].value, needle) ||
        absl::StrContains(messages[i].key, needle)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

ApplyOnceResult ApplyOnce(const std::vector<Event>& events_in) {
  std::vector<Event> events = events_in;
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.raw.partition, a.raw.offset) < std::tie(b.raw.partition, b.raw.offset);
  });
  ApplyOnceResult result;
  std::map<std::string, int32_t> partition_of;
  for (const Event& e : events) {
    const common::v1::EventEnvelope& env = e.envelope;
    const std::string& id = env.aggregate_id();
    const std::string where = absl::StrCat("[", e.raw.partition, "]@", e.raw.offset);
    if (e.raw.key != id) {
      result.problems.push_back(
          absl::StrCat(where, ": key \"", e.raw.key, "\" is not the aggregate id \"", id, "\""));
    }
    auto [it, inserted] = partition_of.emplace(id, e.raw.partition);
    if (!inserted && it->second != e.raw.partition) {
      result.problems.push_back(absl::StrCat(where, ": aggregate ", id, " also in partition ",
                                             it->second));
    }
    std::vector<Event>& applied = result.applied[id];
    const int64_t next = static_cast<int64_t>(applied.size()) + 1;
    if (env.sequence() == next) {
      applied.push_back(e);
    } else if (env.sequence() >= 1 && env.sequence() < next) {
      ++result.duplicates;
      const Event& first = applied[env.sequence() - 1];
      if (first.envelope.event_id() != env.event_id()) {
        result.problems.push_back(absl::StrCat(where, ": ", id, " sequence ", env.sequence(),
                                               " seen twice as different events (",
                                               first.envelope.event_id(), " and ",
                                               env.event_id(), ")"));
      }
    } else {
      result.problems.push_back(absl::StrCat(where, ": ", id, " sequence ", env.sequence(),
                                             " where ", next, " was expected (", e.type, ")"));
    }
  }
  return result;
}

// ---------------------------------------------------------------- the running suite

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(testing::ServiceOptions options) {
  std::unique_ptr<Suite> suite(new Suite());
  absl::StatusOr<testing::DevBroker> broker = testing::StartDevBroker(suite->dir_.path());
  if (!broker.ok()) return broker.status();
  suite->broker_ = std::move(*broker);
  options.data_dir = suite->dir_.Sub("customers");
  options.bootstrap = suite->broker_.bootstrap;
  suite->options_ = std::move(options);
  if (absl::Status s = suite->StartCustomersAgain(); !s.ok()) return s;
  return suite;
}

absl::Status Suite::StartCustomersAgain() {
  absl::StatusOr<testing::Service> service = testing::StartCustomers(options_);
  if (!service.ok()) return service.status();
  customers_ = std::move(*service);
  stubs_ = testing::CustomersStubs::Connect(customers_.address);
  return absl::OkStatus();
}

absl::Status Suite::Restart() {
  absl::StatusOr<testing::ExitStatus> exit = customers_.process->Terminate(absl::Seconds(20));
  if (!exit.ok()) return exit.status();
  if (!exit->exited || exit->code != 0) {
    return absl::InternalError(absl::StrCat("customers did not stop cleanly on SIGTERM: ",
                                            exit->ToString(), "; log tail:\n",
                                            customers_.process->LogTail()));
  }
  return StartCustomersAgain();
}

absl::Status Suite::KillAndRestart() {
  absl::StatusOr<testing::ExitStatus> exit = customers_.process->Kill9();
  if (!exit.ok()) return exit.status();
  return StartCustomersAgain();
}

absl::StatusOr<customers::v1::Location> CreateLocation(testing::CustomersStubs& stubs,
                                                       absl::string_view admin_token,
                                                       absl::string_view name) {
  customers::v1::CreateLocationRequest request;
  request.set_request_id(testing::NewRequestId());
  request.set_name(std::string(name));
  request.set_time_zone("Europe/Madrid");
  request.set_currency("EUR");
  return testing::Call(*stubs.directory, &customers::v1::DirectoryService::Stub::CreateLocation,
                       request, admin_token);
}

absl::StatusOr<customers::v1::Session> RegisterPortalCustomer(testing::CustomersStubs& stubs,
                                                              const Tenant& tenant,
                                                              absl::string_view first_name,
                                                              absl::string_view email,
                                                              absl::string_view password) {
  customers::v1::RegisterRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_operator_id(tenant.operator_id);
  r.set_location_id(tenant.location_id);
  r.set_first_name(std::string(first_name));
  r.set_last_name("Portal");
  r.set_email(std::string(email));
  r.set_password(std::string(password));
  return testing::Call(*stubs.accounts, &customers::v1::AccountsService::Stub::Register, r, "");
}

absl::StatusOr<customers::v1::Session> ChangePortalPassword(testing::CustomersStubs& stubs,
                                                            const customers::v1::Session& session,
                                                            absl::string_view current,
                                                            absl::string_view next) {
  customers::v1::ChangePasswordRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_current_password(std::string(current));
  r.set_new_password(std::string(next));
  return testing::Call(*stubs.accounts, &customers::v1::AccountsService::Stub::ChangePassword, r,
                       session.token());
}

absl::StatusOr<Tenant> CreateTenant(testing::CustomersStubs& stubs, absl::string_view name) {
  customers::v1::CreateOperatorRequest request;
  request.set_request_id(testing::NewRequestId());
  request.set_name(std::string(name));
  absl::StatusOr<customers::v1::Operator> op =
      testing::Call(*stubs.directory, &customers::v1::DirectoryService::Stub::CreateOperator,
                    request, testing::MintDevPlatformToken());
  if (!op.ok()) return op.status();
  Tenant tenant;
  tenant.operator_id = op->operator_id();
  tenant.admin_token = testing::MintDevAdminToken(tenant.operator_id, {"*"});
  absl::StatusOr<customers::v1::Location> location =
      CreateLocation(stubs, tenant.admin_token, absl::StrCat(name, " Centro"));
  if (!location.ok()) return location.status();
  tenant.location_id = location->location_id();
  return tenant;
}

AddCustomerRequest Individual(absl::string_view location_id, absl::string_view first_name,
                              absl::string_view last_name, absl::string_view email) {
  AddCustomerRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_type(customers::v1::INDIVIDUAL);
  r.set_home_location_id(std::string(location_id));
  r.set_first_name(std::string(first_name));
  r.set_last_name(std::string(last_name));
  r.set_email(std::string(email));
  return r;
}

AddCustomerRequest Company(absl::string_view location_id, absl::string_view company_name,
                           absl::string_view first_name, absl::string_view last_name,
                           absl::string_view email) {
  AddCustomerRequest r = Individual(location_id, first_name, last_name, email);
  r.set_type(customers::v1::COMPANY);
  r.set_company_name(std::string(company_name));
  return r;
}

absl::StatusOr<Customer> AddCustomer(testing::CustomersStubs& stubs, absl::string_view token,
                                     AddCustomerRequest request) {
  return testing::Call(*stubs.customers, &customers::v1::CustomersService::Stub::AddCustomer,
                       request, token);
}

absl::StatusOr<Customer> GetCustomer(testing::CustomersStubs& stubs, absl::string_view token,
                                     absl::string_view customer_id) {
  customers::v1::GetCustomerRequest request;
  request.set_customer_id(std::string(customer_id));
  return testing::Call(*stubs.customers, &customers::v1::CustomersService::Stub::GetCustomer,
                       request, token);
}

absl::StatusOr<std::vector<Customer>> ListAllCustomers(
    testing::CustomersStubs& stubs, absl::string_view token,
    customers::v1::ListCustomersRequest request) {
  std::vector<Customer> all;
  request.set_page_size(500);
  // Bounded: a page token that never ends the listing is a bug, not a reason to hang.
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<customers::v1::ListCustomersResponse> response = testing::Call(
        *stubs.customers, &customers::v1::CustomersService::Stub::ListCustomers, request, token);
    if (!response.ok()) return response.status();
    for (const Customer& c : response->customers()) all.push_back(c);
    if (response->next_page_token().empty()) return all;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListCustomers returned more than 1000 pages");
}

absl::StatusOr<std::vector<Event>> EventWatch::Settle() {
  absl::StatusOr<int> partitions = PartitionCount(suite_->bootstrap(), testing::kCustomersTopic);
  if (!partitions.ok()) return partitions.status();
  std::set<std::string> round;   // this round's markers
  std::set<int32_t> covered;     // partitions holding one of them
  // Random ids spread over the partitions; a bound keeps a broken partitioner from looping.
  constexpr int kMaxMarkers = 200;
  constexpr int kPerBatch = 8;
  while (static_cast<int>(covered.size()) < *partitions) {
    if (static_cast<int>(round.size()) >= kMaxMarkers) {
      return absl::InternalError(absl::StrCat(kMaxMarkers, " markers cover only ",
                                              covered.size(), " of ", *partitions,
                                              " partitions"));
    }
    for (int i = 0; i < kPerBatch; ++i) {
      absl::StatusOr<Customer> marker = AddCustomer(
          suite_->stubs(), tenant_.admin_token,
          Individual(tenant_.location_id, "Marker", "Line",
                     absl::StrCat("marker.", testing::NewRequestId(), "@markers.example")));
      if (!marker.ok()) return marker.status();
      round.insert(marker->customer_id());
      marker_ids_.insert(marker->customer_id());
    }
    absl::StatusOr<std::vector<Event>> events = WaitForEvents(
        suite_->bootstrap(), testing::kCustomersTopic,
        [&](const std::vector<Event>& events) {
          size_t seen = 0;
          for (const Event& e : events) {
            if (round.contains(e.envelope.aggregate_id())) ++seen;
          }
          return seen >= round.size();
        },
        absl::Seconds(20), "the markers' CustomerAdded");
    if (!events.ok()) return events.status();
    for (const Event& e : *events) {
      if (round.contains(e.envelope.aggregate_id())) covered.insert(e.raw.partition);
    }
    if (static_cast<int>(covered.size()) >= *partitions) return events;
  }
  return absl::InternalError("unreachable: no partitions");
}

absl::StatusOr<EventWatch> EventWatch::Begin(Suite& suite, const Tenant& tenant) {
  EventWatch watch(suite, tenant);
  absl::StatusOr<std::vector<Event>> events = watch.Settle();
  if (!events.ok()) return events.status();
  for (const Event& e : *events) watch.before_.insert(e.envelope.event_id());
  return watch;
}

absl::StatusOr<std::vector<std::string>> EventWatch::WrittenSince() {
  absl::StatusOr<std::vector<Event>> events = Settle();
  if (!events.ok()) return events.status();
  std::vector<std::string> written;
  for (const Event& e : *events) {
    if (before_.contains(e.envelope.event_id()) ||
        marker_ids_.contains(e.envelope.aggregate_id())) {
      continue;
    }
    written.push_back(absl::StrCat(e.type, " of ", e.envelope.aggregate_id()));
  }
  return written;
}

absl::StatusOr<std::string> SealKeyIn(const std::string& data_dir, absl::string_view operator_id,
                                      absl::string_view subject) {
  absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
      eventstore::Store::Open({.path = data_dir});
  if (!store.ok()) return store.status();
  absl::StatusOr<std::optional<std::string>> key =
      eventstore::KeyVault(**store).Get(operator_id, subject);
  if (!key.ok()) return key.status();
  if (!key->has_value()) {
    return absl::NotFoundError(absl::StrCat("no seal key for ", subject, " in ", data_dir));
  }
  return **key;
}

}  // namespace cowork::e2e
