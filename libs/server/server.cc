#include "libs/server/server.h"
#include "libs/server/logging.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <deque>
#include <exception>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "google/protobuf/stubs/logging.h"
#include "libs/status/field_errors.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/support/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/server_interceptor.h"
#include "libs/server/grpc_status.h"
#include "libs/server/tls.h"

namespace cowork::server {
namespace {

constexpr char kRequestsTotal[] = "cowork_grpc_requests_total";
constexpr char kRequestDuration[] = "cowork_grpc_request_duration_seconds";
constexpr int kMaxReceiveMessageBytes = 8 * 1024 * 1024;

// ---------------------------------------------------------------- worker pool

// One pool per process, shared by the servers running in it (a service runs one; tests may
// run several in turn). It starts with the first server, grows to the largest `workers`
// asked for, and stops (after finishing queued work) when the last server shuts down.
class WorkerPool {
 public:
  static WorkerPool& Get() {
    static WorkerPool* const pool = new WorkerPool;  // never destroyed: threads join in Release
    return *pool;
  }

  void Acquire(int workers) {
    absl::MutexLock lock(&mu_);
    ++users_;
    stopping_ = false;
    while (static_cast<int>(threads_.size()) < workers) {
      threads_.emplace_back([this] { Loop(); });
    }
  }

  void Release() {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      if (--users_ > 0) return;
      stopping_ = true;
      threads.swap(threads_);
      ready_.SignalAll();
    }
    for (std::thread& t : threads) t.join();
  }

  // False when no server runs (the caller then runs the task itself).
  bool Submit(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    if (users_ == 0 || stopping_) return false;
    queue_.push_back(std::move(task));
    ready_.Signal();
    return true;
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        // A condition variable wakes one worker per task; Mutex::Await would make every
        // unlock evaluate the condition of each of the idle workers.
        while (!stopping_ && queue_.empty()) ready_.Wait(&mu_);
        if (queue_.empty()) return;  // stopping, and every queued task ran
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  absl::CondVar ready_;  // a task was queued, or the pool is stopping
  int users_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

absl::Status RunGuarded(const std::function<absl::Status()>& fn) {
  // Exceptions must not cross into gRPC's threads; a throwing handler is a bug, reported as
  // INTERNAL without its details.
  try {
    return fn();
  } catch (const std::exception& e) {
    LogJson("error", "handler threw", {{"what", e.what()}});
  } catch (...) {
    LogJson("error", "handler threw", {});
  }
  return absl::InternalError("internal error");
}

// ---------------------------------------------------------------- undecodable requests

// proto3 string fields must hold UTF-8, and protobuf refuses to parse a request that breaks
// this; gRPC then answers UNIMPLEMENTED with no message before any handler runs. Bad input
// must be INVALID_ARGUMENT naming the bad field, so the interceptor rewrites that status, and
// this log handler catches the field protobuf names while parsing (on the thread that parses,
// which is the one that then sends the status).
thread_local std::vector<std::string> undecodable_fields;

void CaptureProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  const std::string kPrefix = "String field '";
  const std::string kSuffix = "' contains invalid UTF-8 data when parsing";
  const size_t begin = message.find(kPrefix);
  const size_t end = message.find(kSuffix);
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    // "cowork.customers.v1.AddCustomerRequest.first_name" -> "first_name"
    std::string field = message.substr(begin + kPrefix.size(), end - begin - kPrefix.size());
    const size_t dot = field.rfind('.');
    if (dot != std::string::npos) field = field.substr(dot + 1);
    if (undecodable_fields.size() < 64) undecodable_fields.push_back(std::move(field));
    return;
  }
  LogJson(level >= google::protobuf::LOGLEVEL_ERROR ? "error" : "warning", "protobuf",
          {{"file", filename}, {"line", absl::StrCat(line)}, {"message", message}});
}

grpc::Status UndecodableRequestStatus() {
  FieldErrors errors;
  for (std::string& field : undecodable_fields) {
    errors.Add(std::move(field), "must be valid UTF-8 text");
  }
  undecodable_fields.clear();
  if (errors.empty()) errors.Add("request", "is not a valid message for this method");
  return ToGrpcStatus(errors.ToStatus());
}

// ---------------------------------------------------------------- interceptor

struct CallObserver {
  bool log_requests = true;
  Metrics* metrics = nullptr;
};

class ObservingInterceptor final : public grpc::experimental::Interceptor {
 public:
  ObservingInterceptor(const CallObserver* observer, grpc::experimental::ServerRpcInfo* info)
      : observer_(observer), info_(info), start_(std::chrono::steady_clock::now()) {}

  ~ObservingInterceptor() override {
    // A call torn down without sending a status (the client went away) still counts.
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      request_decoded_ = methods->GetRecvMessage() != nullptr;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (!request_decoded_ && status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty() &&
          info_->type() == grpc::experimental::ServerRpcInfo::Type::UNARY) {
        status = UndecodableRequestStatus();
        methods->ModifySendStatus(status);
      }
      Record(status.error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const absl::string_view full = info_->method() == nullptr ? "" : info_->method();
    // "/package.Service/Method"
    absl::string_view grpc_service = full, method = full;
    const size_t slash = full.rfind('/');
    if (slash != absl::string_view::npos && slash > 0) {
      grpc_service = full.substr(full.front() == '/' ? 1 : 0, slash - (full.front() == '/'));
      method = full.substr(slash + 1);
    }
    const std::string code_name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
    observer_->metrics->Increment(kRequestsTotal,
                                  {{"service", std::string(grpc_service)},
                                   {"method", std::string(method)},
                                   {"code", code_name}});
    observer_->metrics->Observe(
        kRequestDuration,
        {{"service", std::string(grpc_service)}, {"method", std::string(method)}}, seconds);
    // Health probes arrive every few seconds from Kubernetes: counted, not logged.
    if (observer_->log_requests && !absl::StartsWith(full, "/grpc.health.")) {
      std::string peer;
      if (info_->server_context() != nullptr) peer = info_->server_context()->peer();
      LogJson("info", "rpc",
              {{"method", std::string(full)},
               {"code", code_name},
               {"duration_ms", absl::StrCat(seconds * 1000)},
               {"peer", peer}});
    }
  }

  const CallObserver* observer_;
  grpc::experimental::ServerRpcInfo* info_;
  std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
  bool request_decoded_ = false;
};

class ObservingInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ObservingInterceptorFactory(const CallObserver* observer) : observer_(observer) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ObservingInterceptor(observer_, info);
  }

 private:
  const CallObserver* observer_;
};

// Reflection on one server or off. Linking gRPC's reflection library registers its plugin for
// every server the process builds (a static initializer), so this option takes it out of the
// server's plugins when reflection is off and makes sure it is there when it is on.
class ReflectionOption final : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool on) : on_(on) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    grpc::reflection::ProtoServerReflectionPlugin reference;
    std::erase_if(*plugins, [&](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
      return p->name() == reference.name();
    });
    if (on_) plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

 private:
  const bool on_;
};

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

// ---------------------------------------------------------------- handlers

grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                              std::function<absl::Status()> fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto task = [context, reactor, fn = std::move(fn)] {
    absl::Status status = context->IsCancelled()
                              ? absl::CancelledError("call cancelled before it started")
                              : RunGuarded(fn);
    if (status.code() == absl::StatusCode::kInternal ||
        status.code() == absl::StatusCode::kUnknown ||
        status.code() == absl::StatusCode::kDataLoss) {
      LogJson("error", "call failed",
              {{"code", absl::StatusCodeToString(status.code())},
               {"error", std::string(status.message())}});
    }
    reactor->Finish(ToGrpcStatus(status));
  };
  if (!WorkerPool::Get().Submit(task)) task();
  return reactor;
}

absl::StatusOr<std::string> BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return absl::UnauthenticatedError("missing bearer token");
  const absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("missing bearer token");
  }
  const absl::string_view token = absl::StripAsciiWhitespace(value.substr(kScheme.size()));
  if (token.empty()) return absl::UnauthenticatedError("missing bearer token");
  return std::string(token);
}

std::string ClientAddress(const grpc::ServerContextBase& context,
                          absl::string_view trusted_header) {
  if (!trusted_header.empty()) {
    const auto& metadata = context.client_metadata();
    auto it = metadata.find(grpc::string_ref(trusted_header.data(), trusted_header.size()));
    if (it != metadata.end()) {
      const absl::string_view value(it->second.data(), it->second.size());
      const absl::string_view first = absl::StripAsciiWhitespace(value.substr(0, value.find(',')));
      if (!first.empty()) return std::string(first.substr(0, 64));
    }
  }
  // "ipv4:127.0.0.1:54321", "ipv6:[::1]:54321"
  const std::string full = context.peer();
  absl::string_view peer = full;
  if (const size_t colon = peer.find(':'); colon != absl::string_view::npos) {
    peer.remove_prefix(colon + 1);
  }
  if (absl::StartsWith(peer, "[")) return std::string(peer.substr(1, peer.find(']') - 1));
  return std::string(peer.substr(0, peer.rfind(':')));
}

// ---------------------------------------------------------------- server

struct Server::Impl {
  ServerOptions options;
  CallObserver observer;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      const std::vector<grpc::Service*>& services,
                                                      Metrics& metrics) {
  if (options.workers < 1) return absl::InvalidArgumentError("workers must be at least 1");
  metrics.Describe(kRequestsTotal, "gRPC calls finished, by service, method and status code");
  metrics.Describe(kRequestDuration, "gRPC call latency in seconds, by service and method");

  if (!options.service.empty()) SetLogService(options.service);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->observer = {.log_requests = options.log_requests,
                    .metrics = &metrics};

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  google::protobuf::SetLogHandler(&CaptureProtobufLog);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &impl->port);
  builder.SetOption(std::make_unique<ReflectionOption>(options.reflection));
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // gRPC binds with SO_REUSEPORT by default: a second instance on the same port would then
  // start "successfully" and take part of the traffic. A busy port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<ObservingInterceptorFactory>(&impl->observer));
  builder.experimental().SetInterceptorCreators(std::move(creators));

  WorkerPool::Get().Acquire(options.workers);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    if (impl->server != nullptr) impl->server->Shutdown();
    WorkerPool::Get().Release();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  if (grpc::HealthCheckServiceInterface* health = impl->server->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  LogJson("info", "listening",
          {{"address", options.listen},
           {"port", absl::StrCat(impl->port)},
           {"tls", options.tls.cert_file.empty()             ? "off"
                   : options.tls.client_ca_file.empty() ? "on"
                                                         : "mutual"},
           {"reflection", options.reflection ? "on" : "off"}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::SetServing(bool serving) {
  absl::MutexLock lock(&impl_->mu);
  if (impl_->shut_down) return;
  if (grpc::HealthCheckServiceInterface* health = impl_->server->GetHealthCheckService()) {
    health->SetServingStatus(serving);
  }
}

void Server::Shutdown() {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  if (grpc::HealthCheckServiceInterface* health = impl_->server->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  const gpr_timespec deadline =
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(absl::ToInt64Milliseconds(impl_->options.drain),
                                        GPR_TIMESPAN));
  // Stops accepting calls at once; calls in flight get until the deadline, then are
  // cancelled. Returns when every call has finished.
  impl_->server->Shutdown(deadline);
  impl_->server->Wait();
  WorkerPool::Get().Release();
  LogJson("info", "stopped", {{"port", absl::StrCat(impl_->port)}});
}

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  const sigset_t set = TerminationSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

}  // namespace cowork::server
