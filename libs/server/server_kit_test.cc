// Flags, logging, metrics and signals of the server kit (the gRPC parts are in server_test).
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "libs/server/flags.h"
#include "libs/server/logging.h"
#include "libs/server/server.h"

namespace cowork::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// ---------------------------------------------------------------- flags

class FlagsTest : public ::testing::Test {
 protected:
  void SetUp() override { ClearEnv(); }
  void TearDown() override { ClearEnv(); }
  static void ClearEnv() {
    for (const char* name :
         {"COWORK_LISTEN", "COWORK_METRICS_LISTEN", "COWORK_DATA_DIR", "COWORK_KAFKA_BROKERS",
          "COWORK_KAFKA_PROPERTY", "COWORK_DURABLE", "COWORK_DEV", "COWORK_REBUILD_PROJECTIONS",
          "COWORK_WORKERS", "COWORK_DRAIN_SECONDS", "COWORK_LOG_REQUESTS"}) {
      unsetenv(name);
    }
  }

  // Parses `args` (without the program name); returns the CLI11 exit code (0 = parsed).
  int Parse(std::vector<std::string> args, ServiceFlags& flags) {
    CLI::App app{"test"};
    AddStandardFlags(app, flags, {.service = "customers", .port = 50051, .metrics_port = 9101});
    std::vector<const char*> argv = {"test"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    } catch (const CLI::ParseError& e) {
      return e.get_exit_code();
    }
    return 0;
  }
};

TEST_F(FlagsTest, Defaults) {
  ServiceFlags f;
  ASSERT_EQ(Parse({}, f), 0);
  EXPECT_EQ(f.service, "customers");
  EXPECT_EQ(f.listen, "127.0.0.1:50051");
  EXPECT_EQ(f.metrics_listen, "127.0.0.1:9101");
  EXPECT_EQ(f.data_dir, "var/customers");
  EXPECT_EQ(f.kafka_brokers, "127.0.0.1:9092");
  EXPECT_TRUE(f.kafka_properties.empty());
  EXPECT_TRUE(f.durable);
  EXPECT_FALSE(f.dev);
  EXPECT_FALSE(f.rebuild_projections);
  EXPECT_EQ(f.workers, 64);
  EXPECT_EQ(f.drain_seconds, 10);
  EXPECT_TRUE(f.log_requests);
}

TEST_F(FlagsTest, CommandLine) {
  ServiceFlags f;
  ASSERT_EQ(Parse({"--listen", "0.0.0.0:7000", "--metrics-listen=", "--data-dir", "/data",
                   "--kafka-brokers", "k1:9092,k2:9092", "--kafka-property",
                   "security.protocol=SASL_SSL", "--kafka-property", "sasl.mechanism=PLAIN",
                   "--durable=false", "--dev", "--rebuild-projections", "--workers", "8",
                   "--drain-seconds", "3", "--log-requests=false"},
                  f),
            0);
  EXPECT_EQ(f.listen, "0.0.0.0:7000");
  EXPECT_EQ(f.metrics_listen, "");
  EXPECT_EQ(f.data_dir, "/data");
  EXPECT_EQ(f.kafka_brokers, "k1:9092,k2:9092");
  EXPECT_THAT(f.kafka_properties,
              ElementsAre("security.protocol=SASL_SSL", "sasl.mechanism=PLAIN"));
  EXPECT_FALSE(f.durable);
  EXPECT_TRUE(f.dev);
  EXPECT_TRUE(f.rebuild_projections);
  EXPECT_EQ(f.workers, 8);
  EXPECT_EQ(f.drain_seconds, 3);
  EXPECT_FALSE(f.log_requests);
}

TEST_F(FlagsTest, NegatedFlags) {
  ServiceFlags f;
  ASSERT_EQ(Parse({"--no-durable", "--no-log-requests"}, f), 0);
  EXPECT_FALSE(f.durable);
  EXPECT_FALSE(f.log_requests);
}

TEST_F(FlagsTest, EnvironmentFallbacksAndCommandLineWins) {
  setenv("COWORK_KAFKA_BROKERS", "env-broker:9092", 1);
  setenv("COWORK_LISTEN", "127.0.0.1:1111", 1);
  setenv("COWORK_DURABLE", "false", 1);
  setenv("COWORK_DEV", "true", 1);
  setenv("COWORK_WORKERS", "5", 1);
  setenv("COWORK_KAFKA_PROPERTY", "a=1;b=2", 1);
  ServiceFlags f;
  ASSERT_EQ(Parse({"--listen", "127.0.0.1:2222"}, f), 0);
  EXPECT_EQ(f.kafka_brokers, "env-broker:9092");
  EXPECT_EQ(f.listen, "127.0.0.1:2222");
  EXPECT_FALSE(f.durable);
  EXPECT_TRUE(f.dev);
  EXPECT_EQ(f.workers, 5);
  EXPECT_THAT(f.kafka_properties, ElementsAre("a=1", "b=2"));
}

TEST_F(FlagsTest, RejectsBadNumbers) {
  ServiceFlags f;
  EXPECT_NE(Parse({"--workers", "0"}, f), 0);
  ServiceFlags g;
  EXPECT_NE(Parse({"--drain-seconds", "soon"}, g), 0);
}

TEST(KafkaProperties, ParsesKeyValues) {
  ServiceFlags f;
  f.kafka_properties = {"security.protocol=SASL_SSL", "sasl.jaas=a=b,c"};
  absl::StatusOr<std::map<std::string, std::string>> p = KafkaProperties(f);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(p->at("sasl.jaas"), "a=b,c");
  f.kafka_properties = {"no-equals"};
  EXPECT_EQ(KafkaProperties(f).status().code(), absl::StatusCode::kInvalidArgument);
  f.kafka_properties = {"=value"};
  EXPECT_EQ(KafkaProperties(f).status().code(), absl::StatusCode::kInvalidArgument);
}

// The message size too: the store checks every event against --kafka-max-message-bytes.
TEST(KafkaProperties, WhatTheRelaysGuaranteesRestOnCannotBeChanged) {
  for (const std::string entry :
       {"enable.idempotence=false", "acks=1", "request.required.acks=0", "max.in.flight=100",
        "max.in.flight.requests.per.connection=10", "message.max.bytes=10000000"}) {
    ServiceFlags f;
    f.kafka_properties = {"security.protocol=ssl", entry};
    const absl::Status refused = KafkaProperties(f).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << entry;
    EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr(entry.substr(0, entry.find('='))));
  }
}

// ---------------------------------------------------------------- logging

std::string CaptureLog(absl::string_view level, absl::string_view message,
                       const std::vector<std::pair<std::string, std::string>>& fields) {
  ::testing::internal::CaptureStderr();
  LogJson(level, message, fields);
  return ::testing::internal::GetCapturedStderr();
}

TEST(LogJson, OneLineWithTimestampServiceAndFields) {
  SetLogService("customers");
  const std::string line = CaptureLog("info", "started", {{"port", "50051"}});
  EXPECT_THAT(line, MatchesRegex(R"(\{"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:)"
                                 R"([0-9]{2}\.[0-9]{3}Z","level":"info","service":"customers",)"
                                 R"("msg":"started","port":"50051"\}
)"));
}

TEST(LogJson, EscapesQuotesBackslashesAndControlCharacters) {
  SetLogService("svc");
  const std::string line =
      CaptureLog("warn", "a \"quoted\" \\ line\nnext\t\x01\x7f", {{"k\"ey", "v\r"}});
  EXPECT_THAT(line, HasSubstr(R"("msg":"a \"quoted\" \\ line\nnext\t\u0001\u007f")"));
  EXPECT_THAT(line, HasSubstr(R"("k\"ey":"v\r")"));
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_EQ(line.back(), '\n');
}

TEST(LogJson, KeepsValidUtf8AndReplacesInvalidBytes) {
  SetLogService("svc");
  // Valid: é (2 bytes), € (3 bytes), 😀 (4 bytes). Invalid: a lone continuation byte, a
  // truncated sequence, an overlong '/', an encoded surrogate, a byte never valid.
  const std::string line = CaptureLog(
      "info", "Zoë €5 😀 \x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xff", {});
  EXPECT_THAT(line, HasSubstr("\"msg\":\"Zoë €5 😀 \\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|"
                              "\\ufffd\\ufffd\\ufffd|\\ufffd\""));
}

// ---------------------------------------------------------------- metrics

TEST(Metrics, RendersCountersWithLabelsAndHelp) {
  Metrics m;
  m.Describe("jobs_total", "Jobs done");
  m.Increment("jobs_total", {{"kind", "a"}});
  m.Increment("jobs_total", {{"kind", "a"}}, 2);
  m.Increment("jobs_total", {{"kind", "b\"x\\y\nz"}});
  m.Increment("plain_total", {});
  const std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# HELP jobs_total Jobs done\n# TYPE jobs_total counter\n"
                              "jobs_total{kind=\"a\"} 3\n"
                              "jobs_total{kind=\"b\\\"x\\\\y\\nz\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE plain_total counter\nplain_total 1\n"));
}

TEST(Metrics, LargeCountersKeepEveryDigit) {
  Metrics m;
  m.Increment("big_total", {}, 123456789);
  EXPECT_THAT(m.Render(), HasSubstr("big_total 123456789\n"));
}

TEST(Metrics, RendersCumulativeHistogram) {
  Metrics m;
  m.Observe("lat_seconds", {{"m", "x"}}, 0.0003);
  m.Observe("lat_seconds", {{"m", "x"}}, 0.003);
  m.Observe("lat_seconds", {{"m", "x"}}, 60);
  const std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE lat_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{m=\"x\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{m=\"x\",le=\"0.0025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{m=\"x\",le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{m=\"x\",le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{m=\"x\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_sum{m=\"x\"} 60.0033\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_count{m=\"x\"} 3\n"));
}

TEST(Metrics, GaugesAreReadAtEachRender) {
  Metrics m;
  double depth = 4;
  m.Gauge("outbox_depth", "Rows waiting", [&] { return depth; });
  EXPECT_THAT(m.Render(), HasSubstr("# HELP outbox_depth Rows waiting\n# TYPE outbox_depth "
                                    "gauge\noutbox_depth 4\n"));
  depth = 7.5;
  EXPECT_THAT(m.Render(), HasSubstr("outbox_depth 7.5\n"));
}

TEST(MetricsHttpServer, ServesMetricsAndHealthz) {
  Metrics m;
  m.Increment("hits_total", {{"path", "/x"}});
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("127.0.0.1:0", m);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/plain"));
  EXPECT_THAT(res->body, HasSubstr("hits_total{path=\"/x\"} 1\n"));
  m.Increment("hits_total", {{"path", "/x"}});
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("hits_total{path=\"/x\"} 2\n"));
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client.Get("/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(MetricsHttpServer, RejectsBadAddressAndBusyPort) {
  Metrics m;
  EXPECT_EQ(MetricsHttpServer::Start("no-port", m).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> first =
      MetricsHttpServer::Start("127.0.0.1:0", m);
  ASSERT_TRUE(first.ok());
  const std::string busy = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_EQ(MetricsHttpServer::Start(busy, m).status().code(), absl::StatusCode::kUnavailable);
}

// ---------------------------------------------------------------- signals

TEST(Signals, WaitReturnsTheBlockedSignal) {
  BlockTerminationSignals();
  // Thread-directed, so it stays pending on this (blocking) thread until sigwait takes it.
  ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);
  EXPECT_EQ(WaitForTerminationSignal(), SIGTERM);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGINT), 0);
  EXPECT_EQ(WaitForTerminationSignal(), SIGINT);
}

}  // namespace
}  // namespace cowork::server
