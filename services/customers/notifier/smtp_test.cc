// SmtpMailer over TLS against a real loopback SMTP server (tests/support/smtp_sink.py, Debian's
// aiosmtpd) with a certificate made for the test by the openssl command: STARTTLS on smtp://,
// TLS from the first byte on smtps://, each verified against --smtp-ca-file; a server whose
// certificate nobody vouches for gets no message, nor does one requiring STARTTLS from a client
// set up without it (both wait for another try).

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "services/customers/notifier/mailer.h"

namespace cowork::customers::notifier {
namespace {

constexpr char kMessage[] =
    "From: desk@cowork.test\r\nTo: zoe@example.com\r\nSubject: Welcome\r\n\r\nHello Zoe\r\n";

class SmtpTlsTest : public ::testing::Test {
 protected:
  // A self-signed certificate for 127.0.0.1, which is also its own CA: made once for the suite.
  static void SetUpTestSuite() {
    certs_ = new testing::TempDir("cowork-smtp-cert");
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> openssl = testing::Subprocess::Start(
        {.program = "/usr/bin/openssl",
         .args = {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                  "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                  Key(), "-out", Cert()},
         .log_path = certs_->Sub("openssl.log")});
    ASSERT_TRUE(openssl.ok()) << openssl.status();
    absl::StatusOr<testing::ExitStatus> done = (*openssl)->WaitExit(absl::Seconds(60));
    ASSERT_TRUE(done.ok() && done->exited && done->code == 0) << (*openssl)->LogTail();
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static std::string Cert() { return certs_->Sub("cert.pem"); }
  static std::string Key() { return certs_->Sub("key.pem"); }
  std::string Mail() const { return dir_.Sub("mail"); }

  // The sink speaking `tls` ("starttls" or "implicit"); returns its port.
  int StartSink(const std::string& tls) {
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> sink = testing::Subprocess::Start(
        {.program = "/usr/bin/python3",
         .args = {COWORK_SMTP_SINK, "--dir", Mail(), "--tls", tls, "--tls-cert", Cert(),
                  "--tls-key", Key()},
         .log_path = dir_.Sub("smtp.log"),
         .stop_timeout = absl::Seconds(5)});
    EXPECT_TRUE(sink.ok()) << sink.status();
    if (!sink.ok()) return 0;
    sink_ = *std::move(sink);
    absl::StatusOr<std::vector<std::string>> line =
        sink_->WaitForLine(R"(smtp listening on 127\.0\.0\.1:([0-9]+))", absl::Seconds(30));
    EXPECT_TRUE(line.ok()) << line.status();
    int port = 0;
    if (line.ok()) EXPECT_TRUE(absl::SimpleAtoi((*line)[1], &port));
    return port;
  }

  absl::Status Send(SmtpOptions options) {
    absl::StatusOr<std::unique_ptr<Mailer>> mailer = NewSmtpMailer(options);
    if (!mailer.ok()) return mailer.status();
    return (*mailer)->Send("desk@cowork.test", "zoe@example.com", kMessage);
  }

  // The messages the sink accepted.
  std::vector<std::string> Received() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(Mail())) return out;
    for (const auto& entry : std::filesystem::directory_iterator(Mail())) {
      if (entry.path().extension() == ".eml") {
        out.push_back(testing::ReadFileOrEmpty(entry.path().string()));
      }
    }
    return out;
  }

  static testing::TempDir* certs_;
  testing::TempDir dir_{"cowork-smtp-tls"};
  std::unique_ptr<testing::Subprocess> sink_;
};

testing::TempDir* SmtpTlsTest::certs_ = nullptr;

TEST_F(SmtpTlsTest, StartTlsDeliversToAServerTheCaVouchesFor) {
  const int port = StartSink("starttls");
  ASSERT_GT(port, 0);
  const absl::Status sent = Send({.url = absl::StrCat("smtp://127.0.0.1:", port),
                                  .starttls = true,
                                  .ca_file = Cert(),
                                  .timeout_seconds = 20});
  ASSERT_TRUE(sent.ok()) << sent << "\n" << sink_->LogTail();
  const std::vector<std::string> received = Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_NE(received[0].find("Hello Zoe"), std::string::npos);
}

TEST_F(SmtpTlsTest, SmtpsDeliversToAServerTheCaVouchesFor) {
  const int port = StartSink("implicit");
  ASSERT_GT(port, 0);
  const absl::Status sent = Send({.url = absl::StrCat("smtps://127.0.0.1:", port),
                                  .ca_file = Cert(),
                                  .timeout_seconds = 20});
  ASSERT_TRUE(sent.ok()) << sent << "\n" << sink_->LogTail();
  EXPECT_EQ(Received().size(), 1u);
}

TEST_F(SmtpTlsTest, AServerNobodyVouchesForGetsNothing) {
  // The system's CAs do not know the test's certificate: the handshake fails, the message is
  // not sent and stays for another try.
  const int port = StartSink("starttls");
  ASSERT_GT(port, 0);
  const absl::Status sent = Send(
      {.url = absl::StrCat("smtp://127.0.0.1:", port), .starttls = true, .timeout_seconds = 20});
  EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable) << sent;
  EXPECT_TRUE(Received().empty());
}

TEST_F(SmtpTlsTest, WithoutStartTlsAServerThatRequiresItGetsNothingYet) {
  // "530 Must issue a STARTTLS command first" refuses the session as configured, not the
  // message: it stays for another try, after the settings are fixed.
  const int port = StartSink("starttls");
  ASSERT_GT(port, 0);
  const absl::Status sent =
      Send({.url = absl::StrCat("smtp://127.0.0.1:", port), .timeout_seconds = 20});
  EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable) << sent;
  EXPECT_TRUE(Received().empty());
}

}  // namespace
}  // namespace cowork::customers::notifier
