#ifndef COWORK_SERVICES_CUSTOMERS_NOTIFIER_MAILER_H_
#define COWORK_SERVICES_CUSTOMERS_NOTIFIER_MAILER_H_

// Sending one rendered email, and the real sender: SMTP through libcurl (curl.h stays in
// smtp.cc). The notifier sees only the Mailer interface; tests give it a fake.
//
// What an error says is what the notifier needs to never send an email twice:
//  - OK: the SMTP server accepted the message (250 after its end);
//  - UNAVAILABLE: it certainly was not delivered (no connection, a refusal before the message
//    went out, a temporary 4xx refusal, 530 "STARTTLS or authentication required"): try again
//    later;
//  - FAILED_PRECONDITION: the server refused the sender, the recipient or the message for good
//    (a 5xx reply): do not try again;
//  - UNKNOWN: the whole message went out but its answer never came back (a broken connection,
//    a timeout): it may have been delivered, so it must not be sent again.
// Error messages name the curl error and the SMTP reply code, never an address.
//
// Thread-safe: SmtpMailer keeps no state between calls (a new connection per message).
//
//   SmtpOptions smtp;  // filled by AddSmtpFlags and SmtpSecretsFromEnv
//   ASSIGN_OR_RETURN(std::unique_ptr<Mailer> mailer, NewSmtpMailer(smtp));
//   absl::Status sent = mailer->Send("desk@example.com", "zoe@example.com", data);

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cowork::customers::notifier {

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Sends `data` (a rendered message, CRLF line ends) with envelope sender `from` to `to`
  // (bare addresses).
  virtual absl::Status Send(absl::string_view from, absl::string_view to,
                            absl::string_view data) = 0;
};

struct SmtpOptions {
  // --smtp-url (COWORK_SMTP_URL): "smtp://host:port", or "smtps://host:port" for TLS from the
  // first byte. Empty (the default): no email is sent and the notifier does not run.
  std::string url;
  // --smtp-from (COWORK_SMTP_FROM): the envelope sender and From address; the From display
  // name is the operator's. Default "noreply@cowork.localhost".
  std::string from = "noreply@cowork.localhost";
  // --smtp-starttls (COWORK_SMTP_STARTTLS): require STARTTLS on an smtp:// URL (curl verifies
  // the server's certificate). Default false.
  bool starttls = false;
  // --smtp-ca-file (COWORK_SMTP_CA_FILE): PEM file of the certificate authorities trusted to
  // sign the SMTP server's certificate (a relay with a private CA). Empty (the default): the
  // system's. The server's certificate is always verified, host name included.
  std::string ca_file;
  // --smtp-timeout-seconds (COWORK_SMTP_TIMEOUT_SECONDS): the longest one message may take,
  // connection included. Default 30.
  int timeout_seconds = 30;
  // COWORK_SMTP_USERNAME and COWORK_SMTP_PASSWORD, from the environment only (a secret never
  // goes on a command line). Empty: no authentication.
  std::string username;
  std::string password;
};

// Adds the --smtp-* flags above, each with its environment fallback.
void AddSmtpFlags(CLI::App& cli, SmtpOptions& options);
// Reads the credentials from COWORK_SMTP_USERNAME and COWORK_SMTP_PASSWORD.
void SmtpSecretsFromEnv(SmtpOptions& options);

// INVALID_ARGUMENT for a URL that is not smtp:// or smtps://, an unusable --smtp-from or a
// timeout below one second.
absl::StatusOr<std::unique_ptr<Mailer>> NewSmtpMailer(const SmtpOptions& options);

}  // namespace cowork::customers::notifier

#endif  // COWORK_SERVICES_CUSTOMERS_NOTIFIER_MAILER_H_
