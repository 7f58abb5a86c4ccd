#ifndef COWORK_TOOLS_BILLINGGEN_EVENT_FILE_H_
#define COWORK_TOOLS_BILLINGGEN_EVENT_FILE_H_

// A file of events: length-delimited EventEnvelopes (protobuf's delimited format, as
// google/protobuf/util/delimited_message_util.h writes it), one after another in the order
// written. Each event's topic is cowork.<envelope.service()>.events and its key the aggregate
// id, so the file is enough to put the events on the topics again.
//
// Not thread-safe. Errors: UNAVAILABLE when the file cannot be opened or written,
// DATA_LOSS when a record does not parse.
//
//   ASSIGN_OR_RETURN(auto writer, EventFileWriter::Open("/tmp/events.bin"));
//   RETURN_IF_ERROR(writer->Write(envelope));
//   RETURN_IF_ERROR(writer->Close());
//   RETURN_IF_ERROR(ReadEventFile("/tmp/events.bin", [](const EventEnvelope& e) { ... }));

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cowork/common/v1/envelope.pb.h"

namespace google::protobuf::io {
class FileOutputStream;
}

namespace cowork::billinggen {

class EventFileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<EventFileWriter>> Open(const std::string& path);
  ~EventFileWriter();
  absl::Status Write(const common::v1::EventEnvelope& envelope);
  // Flushes and closes; the destructor closes too, without reporting errors.
  absl::Status Close();

 private:
  EventFileWriter(std::string path, int fd);
  std::string path_;
  std::unique_ptr<google::protobuf::io::FileOutputStream> out_;
};

// Calls `fn` with every event of the file, in order.
absl::Status ReadEventFile(const std::string& path,
                           const std::function<void(const common::v1::EventEnvelope&)>& fn);

}  // namespace cowork::billinggen

#endif  // COWORK_TOOLS_BILLINGGEN_EVENT_FILE_H_
