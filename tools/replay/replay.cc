#include "tools/replay/replay.h"

#include <csv.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/checkins/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "cowork/helpdesk/v1/events.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "libs/clock/proto_time.h"
#include "libs/kafka/kafka.h"

namespace cowork::replay {

// ---------------------------------------------------------------- topics and types

std::vector<std::string> AllServices() {
  return {"customers", "contracts", "bookings", "checkins", "helpdesk", "billing"};
}

std::string ResolveTopic(absl::string_view name) {
  if (absl::StrContains(name, '.')) return std::string(name);
  return kafka::TopicFor(name);
}

void LinkEventTypes() {
  // Naming one message of each events file links its generated code, which registers the
  // file's types in the generated pool. The billing service's events come with its API proto
  // (cowork/billing/v1/billing.proto imports them), which active-users links.
  static const google::protobuf::FileDescriptor* const files[] = {
      customers::v1::CustomerAdded::descriptor()->file(),
      contracts::v1::ContractStarted::descriptor()->file(),
      bookings::v1::BookingCreated::descriptor()->file(),
      checkins::v1::CheckedIn::descriptor()->file(),
      helpdesk::v1::TicketOpened::descriptor()->file()};
  (void)files;
}

absl::string_view FullTypeName(const common::v1::EventEnvelope& envelope) {
  absl::string_view url = envelope.payload().type_url();
  if (size_t slash = url.rfind('/'); slash != absl::string_view::npos) url.remove_prefix(slash + 1);
  return url;
}

absl::string_view ShortTypeName(absl::string_view full_name) {
  if (size_t dot = full_name.rfind('.'); dot != absl::string_view::npos) {
    full_name.remove_prefix(dot + 1);
  }
  return full_name;
}

// ---------------------------------------------------------------- filters

bool Filter::Matches(const common::v1::EventEnvelope& envelope) const {
  if (!types.empty()) {
    const absl::string_view full = FullTypeName(envelope);
    if (!types.contains(full) && !types.contains(ShortTypeName(full))) return false;
  }
  if (!locations.empty() && !locations.contains(envelope.location_id())) return false;
  if (!operators.empty() && !operators.contains(envelope.operator_id())) return false;
  if (since != absl::InfinitePast() || until != absl::InfiniteFuture()) {
    const absl::Time at = FromTimestamp(envelope.occurred_at());
    if (at < since || at >= until) return false;
  }
  return true;
}

absl::StatusOr<absl::Time> ParseInstant(absl::string_view text) {
  absl::Time t;
  std::string why;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &why)) return t;
  absl::CivilDay day;
  if (text.size() == 10 && absl::ParseCivilTime(text, &day)) {
    return absl::FromCivil(day, absl::UTCTimeZone());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" is not an instant: use RFC 3339 (2026-06-01T10:00:00+02:00) ",
                   "or a day (2026-06-01, midnight UTC)"));
}

// ---------------------------------------------------------------- rows

std::unique_ptr<google::protobuf::Message> DecodePayload(
    const common::v1::EventEnvelope& envelope, PayloadStatus* status) {
  LinkEventTypes();
  const absl::string_view full = FullTypeName(envelope);
  const google::protobuf::Descriptor* type =
      full.empty() ? nullptr
                   : google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
                         std::string(full));
  PayloadStatus result = PayloadStatus::kUnknownType;
  std::unique_ptr<google::protobuf::Message> payload;
  if (type != nullptr) {
    payload.reset(google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
    result = PayloadStatus::kDecoded;
    if (!payload->ParseFromString(envelope.payload().value())) {
      payload.reset();
      result = PayloadStatus::kUnreadable;
    }
  }
  if (status != nullptr) *status = result;
  return payload;
}

Row ToRow(const common::v1::EventEnvelope& envelope, PayloadStatus* status) {
  Row row;
  row.set_time(google::protobuf::util::TimeUtil::ToString(envelope.occurred_at()));
  row.set_service(envelope.service());
  row.set_type(std::string(ShortTypeName(FullTypeName(envelope))));
  row.set_operator_(envelope.operator_id());
  row.set_location(envelope.location_id());
  row.set_aggregate_type(envelope.aggregate_type());
  row.set_aggregate(envelope.aggregate_id());
  row.set_sequence(envelope.sequence());
  row.set_event_id(envelope.event_id());
  PayloadStatus result;
  // Protobuf's JSON printer shows bytes that do not parse as an empty object: parse first.
  if (DecodePayload(envelope, &result) != nullptr) *row.mutable_payload() = envelope.payload();
  if (status != nullptr) *status = result;
  return row;
}

namespace {

// Protobuf 3.21 prints JSON through a TypeResolver and asks it for the description of every
// type in every message it prints; the generated pool's resolver builds each one again from
// the descriptors (about a sixth of a replay's CPU). This one keeps them. Thread-safe.
class CachingTypeResolver final : public google::protobuf::util::TypeResolver {
 public:
  CachingTypeResolver()
      : generated_(google::protobuf::util::NewTypeResolverForDescriptorPool(
            kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool())) {}

  google::protobuf::util::Status ResolveMessageType(const std::string& url,
                                                    google::protobuf::Type* type) override {
    return Resolve(url, messages_, type, &TypeResolver::ResolveMessageType);
  }
  google::protobuf::util::Status ResolveEnumType(const std::string& url,
                                                 google::protobuf::Enum* type) override {
    return Resolve(url, enums_, type, &TypeResolver::ResolveEnumType);
  }

  static constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

 private:
  template <typename T>
  google::protobuf::util::Status Resolve(
      const std::string& url, absl::flat_hash_map<std::string, T>& cache, T* out,
      google::protobuf::util::Status (TypeResolver::*resolve)(const std::string&, T*)) {
    absl::MutexLock lock(&mu_);
    auto it = cache.find(url);
    if (it == cache.end()) {
      T resolved;
      if (auto s = (generated_.get()->*resolve)(url, &resolved); !s.ok()) return s;
      it = cache.emplace(url, std::move(resolved)).first;
    }
    *out = it->second;
    return google::protobuf::util::OkStatus();
  }

  const std::unique_ptr<TypeResolver> generated_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, google::protobuf::Type> messages_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, google::protobuf::Enum> enums_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  LinkEventTypes();
  static CachingTypeResolver* const resolver = new CachingTypeResolver();
  // As coworkctl prints: the proto's field names, every field even when it holds its default.
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (const auto s = google::protobuf::util::BinaryToJsonString(
          resolver,
          absl::StrCat(CachingTypeResolver::kTypeUrlPrefix, "/",
                       message.GetDescriptor()->full_name()),
          message.SerializeAsString(), &json, options);
      !s.ok()) {
    return absl::InvalidArgumentError(s.ToString());
  }
  return json;
}

std::string JsonLine(const Row& row) {
  // ToRow keeps only payloads of known types.
  std::string json = *ToJson(row);
  json.push_back('\n');
  return json;
}

std::string CsvHeader() {
  const google::protobuf::Descriptor* d = Row::descriptor();
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->name());
  return absl::StrCat(absl::StrJoin(names, ","), "\n");
}

std::string CsvLine(const Row& row) {
  const std::string cells[] = {row.time(),
                               row.service(),
                               row.type(),
                               row.operator_(),
                               row.location(),
                               row.aggregate_type(),
                               row.aggregate(),
                               absl::StrCat(row.sequence()),
                               row.event_id(),
                               row.has_payload() ? *ToJson(row.payload()) : ""};
  std::string line;
  for (const std::string& cell : cells) {
    if (!line.empty()) line.push_back(',');
    line += CsvField(cell);
  }
  line.push_back('\n');
  return line;
}

std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  // libcsv's writer: the cell in quotes, each quote doubled.
  std::string out(csv_write(nullptr, 0, text.data(), text.size()), '\0');
  csv_write(out.data(), out.size(), text.data(), text.size());
  return out;
}

// ---------------------------------------------------------------- apply once

SequenceCheck::Verdict SequenceCheck::Check(const common::v1::EventEnvelope& envelope) {
  std::string key = absl::StrCat(envelope.aggregate_type(), "/", envelope.aggregate_id());
  const int64_t sequence = envelope.sequence();
  auto [it, first_seen] = applied_.try_emplace(std::move(key), 0);
  if (first_seen && !from_start_) {
    it->second = sequence;
    return Verdict::kNext;
  }
  if (sequence <= it->second) return Verdict::kDuplicate;
  if (sequence > it->second + 1) return Verdict::kAhead;
  it->second = sequence;
  return Verdict::kNext;
}

// ---------------------------------------------------------------- the writer

RowWriter::RowWriter(std::ostream& out, Format format, Filter filter, bool from_start)
    : out_(out), format_(format), filter_(std::move(filter)), sequences_(from_start) {
  if (format_ == Format::kCsv) out_ << CsvHeader();
}

void RowWriter::Add(absl::string_view value) {
  ++counts_.messages;
  if (!envelope_.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      envelope_.aggregate_type().empty() || envelope_.aggregate_id().empty()) {
    ++counts_.not_envelopes;
    return;
  }
  switch (sequences_.Check(envelope_)) {
    case SequenceCheck::Verdict::kDuplicate:
      ++counts_.duplicates;
      return;
    case SequenceCheck::Verdict::kAhead:
      ++counts_.ahead;
      return;
    case SequenceCheck::Verdict::kNext:
      break;
  }
  if (!filter_.Matches(envelope_)) {
    ++counts_.filtered;
    return;
  }
  PayloadStatus payload;
  const Row row = ToRow(envelope_, &payload);
  if (payload == PayloadStatus::kUnknownType) ++counts_.unknown_types;
  if (payload == PayloadStatus::kUnreadable) ++counts_.unreadable;
  out_ << (format_ == Format::kCsv ? CsvLine(row) : JsonLine(row));
  ++counts_.rows;
}

// ---------------------------------------------------------------- stderr lines

namespace {

int64_t PerSecond(int64_t n, absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? static_cast<int64_t>(static_cast<double>(n) / seconds) : 0;
}

}  // namespace

std::string ProgressLine(int64_t consumed, int64_t backlog, int64_t rows, absl::Duration elapsed,
                         bool following) {
  const std::string rate = absl::StrCat(PerSecond(consumed, elapsed), " messages/s");
  if (following || backlog <= 0) {
    return absl::StrCat("cowork-replay: ", consumed, " messages, ", rows, " rows, ", rate,
                        following ? ", following" : "");
  }
  return absl::StrCat("cowork-replay: ", std::min<int64_t>(100, consumed * 100 / backlog), "% (",
                      consumed, " of ", backlog, " messages), ", rows, " rows, ", rate);
}

std::string Summary(const Counts& c, absl::Duration elapsed) {
  std::string out = absl::StrFormat("cowork-replay: %d messages in %.1f s (%d messages/s), %d rows",
                                    c.messages, absl::ToDoubleSeconds(elapsed),
                                    PerSecond(c.messages, elapsed), c.rows);
  std::vector<std::string> notes;
  if (c.filtered > 0) notes.push_back(absl::StrCat(c.filtered, " filtered out"));
  if (c.duplicates > 0) notes.push_back(absl::StrCat(c.duplicates, " duplicates skipped"));
  if (c.ahead > 0) notes.push_back(absl::StrCat(c.ahead, " out of order skipped"));
  if (c.not_envelopes > 0) notes.push_back(absl::StrCat(c.not_envelopes, " not events"));
  if (c.unknown_types > 0) notes.push_back(absl::StrCat(c.unknown_types, " of unknown types"));
  if (c.unreadable > 0) notes.push_back(absl::StrCat(c.unreadable, " unreadable payloads"));
  if (!notes.empty()) absl::StrAppend(&out, "; ", absl::StrJoin(notes, ", "));
  return out;
}

}  // namespace cowork::replay
