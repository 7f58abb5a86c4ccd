#include "services/customers/domain/events.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include "google/protobuf/descriptor.h"

namespace cowork::customers::domain {
namespace {

const google::protobuf::OneofDescriptor& PayloadOneof() {
  static const google::protobuf::OneofDescriptor* oneof =
      Event::descriptor()->FindOneofByName("payload");
  return *oneof;
}

const google::protobuf::FieldDescriptor* FieldFor(const google::protobuf::Descriptor* type) {
  const google::protobuf::OneofDescriptor& oneof = PayloadOneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    if (oneof.field(i)->message_type() == type) return oneof.field(i);
  }
  // Descriptors of one type from two pools (a dynamic message) compare by name.
  for (int i = 0; i < oneof.field_count(); ++i) {
    if (oneof.field(i)->message_type()->full_name() == type->full_name()) return oneof.field(i);
  }
  return nullptr;
}

}  // namespace

bool SetPayload(Event& event, const google::protobuf::Message& payload) {
  const google::protobuf::FieldDescriptor* field = FieldFor(payload.GetDescriptor());
  if (field == nullptr) return false;
  google::protobuf::Message* target = event.GetReflection()->MutableMessage(&event, field);
  if (target->GetDescriptor() == payload.GetDescriptor()) {
    target->CopyFrom(payload);
  } else {
    target->ParseFromString(payload.SerializeAsString());
  }
  return true;
}

const google::protobuf::Message* PayloadOf(const Event& event) {
  const google::protobuf::FieldDescriptor* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, &PayloadOneof());
  if (field == nullptr) return nullptr;
  return &event.GetReflection()->GetMessage(event, field);
}

google::protobuf::Message* MutablePayloadOf(Event& event) {
  const google::protobuf::FieldDescriptor* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, &PayloadOneof());
  if (field == nullptr) return nullptr;
  return event.GetReflection()->MutableMessage(&event, field);
}

Event MakeEvent(const google::protobuf::Message& payload, absl::string_view operator_id,
                absl::Time now) {
  Event event;
  if (!SetPayload(event, payload)) {
    std::cerr << "MakeEvent: not a customers event: " << payload.GetTypeName() << std::endl;
    std::abort();
  }
  *event.mutable_occurred_at() = ToTimestamp(now);
  event.set_operator_id(std::string(operator_id));
  return event;
}

}  // namespace cowork::customers::domain
