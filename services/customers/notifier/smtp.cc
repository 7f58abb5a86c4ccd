// SmtpMailer: one libcurl easy handle, one connection and one SMTP transaction per message.

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/customers/notifier/mailer.h"
#include "services/customers/notifier/message.h"

namespace cowork::customers::notifier {
namespace {

// The message as curl reads it. `finished` turns true when curl has read all of it: from then
// on the server may have the whole message, whether or not its answer arrives.
struct Upload {
  absl::string_view data;
  size_t offset = 0;
  bool finished = false;
};

size_t ReadMessage(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  if (n == 0) upload->finished = true;
  return n;
}

// Sorts a failed transaction into the codes of mailer.h.
absl::Status Classify(CURLcode code, long reply, bool finished) {
  std::string detail = absl::StrCat("curl: ", curl_easy_strerror(code));
  if (reply > 0) absl::StrAppend(&detail, "; SMTP reply ", reply);
  if (finished) {
    // After the message: 250 would have been success; 4xx/5xx is the server's verdict on it;
    // anything else means the verdict never came.
    if (reply >= 500) return absl::FailedPreconditionError(detail);
    if (reply >= 400) return absl::UnavailableError(detail);
    return absl::UnknownError(absl::StrCat("no answer after the message: ", detail));
  }
  // Before the message: a 5xx to MAIL FROM, RCPT TO or DATA refuses it for good; anything else
  // (no connection, greeting or login refused, a 4xx) leaves it undelivered for another try.
  // So does 530 (STARTTLS or authentication required, RFC 3207 and 4954): the server refuses
  // our session as configured, not the message, which goes out once the settings are fixed.
  if (code == CURLE_SEND_ERROR && reply >= 500 && reply != 530) {
    return absl::FailedPreconditionError(detail);
  }
  return absl::UnavailableError(detail);
}

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(SmtpOptions options) : options_(std::move(options)) {}

  absl::Status Send(absl::string_view from, absl::string_view to,
                    absl::string_view data) override {
    std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
    if (curl == nullptr) return absl::UnavailableError("curl: cannot create a handle");
    const std::string mail_from = absl::StrCat("<", from, ">");
    std::unique_ptr<curl_slist, ListDeleter> recipients(
        curl_slist_append(nullptr, absl::StrCat("<", to, ">").c_str()));
    Upload upload{.data = data};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadMessage);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    // Threads of the service call this: no signals (curl's resolver timeouts use them).
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(options_.timeout_seconds));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                     static_cast<long>(std::min(options_.timeout_seconds, 10)));
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     static_cast<long>(options_.starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.username.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
    }
    const CURLcode code = curl_easy_perform(c);
    if (code == CURLE_OK) return absl::OkStatus();
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    return Classify(code, reply, upload.finished);
  }

 private:
  const SmtpOptions options_;
};

std::string FromEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

void AddSmtpFlags(CLI::App& cli, SmtpOptions& options) {
  cli.add_option("--smtp-url", options.url,
                 "SMTP server for notification emails (smtp://host:port or smtps://host:port); "
                 "empty: no emails")
      ->envname("COWORK_SMTP_URL");
  cli.add_option("--smtp-from", options.from, "Sender address of notification emails")
      ->envname("COWORK_SMTP_FROM")
      ->capture_default_str();
  cli.add_flag("--smtp-starttls", options.starttls, "Require STARTTLS on an smtp:// URL")
      ->envname("COWORK_SMTP_STARTTLS");
  cli.add_option("--smtp-ca-file", options.ca_file,
                 "PEM file of the CAs trusted to sign the SMTP server's certificate (default: "
                 "the system's)")
      ->envname("COWORK_SMTP_CA_FILE");
  cli.add_option("--smtp-timeout-seconds", options.timeout_seconds,
                 "Longest time one email may take, connection included")
      ->envname("COWORK_SMTP_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
}

void SmtpSecretsFromEnv(SmtpOptions& options) {
  options.username = FromEnv("COWORK_SMTP_USERNAME");
  options.password = FromEnv("COWORK_SMTP_PASSWORD");
}

absl::StatusOr<std::unique_ptr<Mailer>> NewSmtpMailer(const SmtpOptions& options) {
  if (!absl::StartsWith(options.url, "smtp://") && !absl::StartsWith(options.url, "smtps://")) {
    return absl::InvalidArgumentError("--smtp-url must start with smtp:// or smtps://");
  }
  if (!IsUsableAddress(options.from)) {
    return absl::InvalidArgumentError("--smtp-from must be a valid email address");
  }
  if (options.timeout_seconds < 1) {
    return absl::InvalidArgumentError("--smtp-timeout-seconds must be at least 1");
  }
  // Not thread-safe itself: done once, before any handle exists.
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<SmtpMailer>(options);
}

}  // namespace cowork::customers::notifier
