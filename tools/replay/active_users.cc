#include "tools/replay/active_users.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cowork/billing/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/views.h"
#include "libs/kafka/kafka.h"
#include "services/billing/projection/keys.h"

namespace cowork::replay {

std::vector<std::string> ActiveUsersReplay::Topics() {
  return {kafka::TopicFor("customers"), kafka::TopicFor("contracts"), kafka::TopicFor("bookings"),
          kafka::TopicFor("billing")};
}

absl::StatusOr<std::unique_ptr<ActiveUsersReplay>> ActiveUsersReplay::Create(
    const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = absl::StrCat(base, "/cowork-replay.XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a directory under ", base));
  }
  std::unique_ptr<ActiveUsersReplay> replay(new ActiveUsersReplay(pattern));
  // Not durable: the store lives only as long as this replay.
  absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
      eventstore::Store::Open({.path = replay->dir_ + "/store", .durable = false});
  if (!store.ok()) return store.status();
  replay->store_ = *std::move(store);
  replay->directory_ = std::make_unique<directory::Directory>(*replay->store_);
  replay->verifier_ = std::make_unique<auth::TokenVerifier>(auth::VerifierOptions{});
  replay->app_ = std::make_unique<billing::app::App>(*replay->store_, *replay->directory_,
                                                     RealClock::Get(), *replay->verifier_);
  return replay;
}

ActiveUsersReplay::~ActiveUsersReplay() {
  app_.reset();
  directory_.reset();
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status ActiveUsersReplay::Apply(absl::string_view topic, absl::string_view value) {
  common::v1::EventEnvelope envelope;
  if (!envelope.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      envelope.aggregate_type().empty() || envelope.aggregate_id().empty()) {
    ++counts_.not_events;
    return absl::OkStatus();
  }
  switch (sequences_.Check(envelope)) {
    case SequenceCheck::Verdict::kDuplicate:
      ++counts_.duplicates;
      return absl::OkStatus();
    case SequenceCheck::Verdict::kAhead:
      ++counts_.ahead;
      return absl::OkStatus();
    case SequenceCheck::Verdict::kNext:
      break;
  }
  PayloadStatus decoded;
  const std::unique_ptr<google::protobuf::Message> payload = DecodePayload(envelope, &decoded);
  if (decoded == PayloadStatus::kUnknownType) {
    ++counts_.not_events;
    return absl::OkStatus();
  }
  if (decoded == PayloadStatus::kUnreadable) {
    ++counts_.refused;
    return absl::OkStatus();
  }
  if (payload->GetDescriptor() == customers::v1::LocationCreated::descriptor()) {
    // Location ids are aggregate ids, unique across operators.
    operator_of_.emplace(envelope.aggregate_id(), envelope.operator_id());
  }

  // The two consumers of the billing service, one commit each: the directory reads the
  // customers topic, the projection every topic.
  bool refused = false;
  if (topic == kafka::TopicFor("customers")) {
    eventstore::WriteSet writes;
    if (!directory_->Apply(envelope, *payload, writes).ok()) {
      refused = true;
    } else if (!writes.empty()) {
      if (absl::Status s = store_->Commit(std::move(writes)); !s.ok()) return s;
    }
  }
  eventstore::WriteSet writes;
  bool projected = true;
  if (topic == kafka::TopicFor("billing")) {
    // A closed month: GetActiveUsers counts it from what was recorded before its close.
    if (payload->GetDescriptor() == billing::v1::MonthClosed::descriptor()) {
      const auto& closed = static_cast<const billing::v1::MonthClosed&>(*payload);
      const std::optional<std::string> key =
          billing::projection::ClosedMonthKey(envelope.operator_id(), closed);
      if (key.has_value()) {
        writes.Put(eventstore::Space::kViews, *key, closed.SerializeAsString());
      } else {
        projected = false;
      }
    }
  } else {
    projected = app_->activity().Apply(envelope, *payload, writes).ok();
  }
  if (!projected) {
    refused = true;
  } else if (!writes.empty()) {
    if (absl::Status s = store_->Commit(std::move(writes)); !s.ok()) return s;
  }
  ++(refused ? counts_.refused : counts_.applied);
  return absl::OkStatus();
}

absl::StatusOr<billing::v1::ActiveUsers> ActiveUsersReplay::Get(absl::string_view location_id,
                                                                absl::string_view month) const {
  auto found = operator_of_.find(std::string(location_id));
  if (found == operator_of_.end()) {
    return absl::NotFoundError(
        absl::StrCat("location ", location_id, " is not on the customers topic"));
  }
  auth::Principal platform_reader;
  platform_reader.role = auth::Role::kAdmin;
  platform_reader.subject = "cowork-replay";
  platform_reader.operator_id = found->second;
  platform_reader.locations = {std::string(location_id)};
  platform_reader.permissions.insert(std::string(auth::kPlatformInvoices));
  billing::v1::GetActiveUsersRequest request;
  request.set_location_id(std::string(location_id));
  request.set_month(std::string(month));
  request.set_page_size(eventstore::kMaxPageSize);
  // Every page in one answer: the first page's, with the users of the others.
  absl::StatusOr<billing::v1::ActiveUsers> all = app_->GetActiveUsers(platform_reader, request);
  while (all.ok() && !all->next_page_token().empty()) {
    request.set_page_token(all->next_page_token());
    absl::StatusOr<billing::v1::ActiveUsers> page =
        app_->GetActiveUsers(platform_reader, request);
    if (!page.ok()) return page.status();
    all->mutable_users()->MergeFrom(page->users());
    all->set_next_page_token(page->next_page_token());
  }
  return all;
}

}  // namespace cowork::replay
