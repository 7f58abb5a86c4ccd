#include "tools/billinggen/event_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/util/delimited_message_util.h"

namespace cowork::billinggen {
namespace {

absl::Status Unavailable(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

EventFileWriter::EventFileWriter(std::string path, int fd)
    : path_(std::move(path)), out_(std::make_unique<google::protobuf::io::FileOutputStream>(fd)) {}

EventFileWriter::~EventFileWriter() { (void)Close(); }

absl::StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot create", path);
  return std::unique_ptr<EventFileWriter>(new EventFileWriter(path, fd));
}

absl::Status EventFileWriter::Write(const common::v1::EventEnvelope& envelope) {
  if (out_ == nullptr) return absl::FailedPreconditionError("event file is closed");
  if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(envelope, out_.get())) {
    return Unavailable("cannot write", path_);
  }
  return absl::OkStatus();
}

absl::Status EventFileWriter::Close() {
  if (out_ == nullptr) return absl::OkStatus();
  const bool flushed = out_->Close();  // closes the descriptor too
  out_.reset();
  if (!flushed) return Unavailable("cannot write", path_);
  return absl::OkStatus();
}

absl::Status ReadEventFile(const std::string& path,
                           const std::function<void(const common::v1::EventEnvelope&)>& fn) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open", path);
  google::protobuf::io::FileInputStream in(fd);
  in.SetCloseOnDelete(true);
  common::v1::EventEnvelope envelope;
  for (uint64_t n = 0;; ++n) {
    bool clean_eof = false;
    envelope.Clear();  // parsing merges into what is there
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&envelope, &in, &clean_eof)) {
      if (clean_eof) return absl::OkStatus();
      return absl::DataLossError(absl::StrCat(path, ": record ", n + 1, " does not parse"));
    }
    fn(envelope);
  }
}

}  // namespace cowork::billinggen
