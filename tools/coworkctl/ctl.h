#ifndef COWORK_TOOLS_COWORKCTL_CTL_H_
#define COWORK_TOOLS_COWORKCTL_CTL_H_

// The core of coworkctl, the operator CLI: global options, the one generic call helper every
// command goes through, and the json/table output. Each service adds its command group in a
// file of its own (customers_commands.cc); a group builds a request proto from its flags and
// hands it to Context::Call with the method's full name. Nothing here knows a service's
// messages; the address a call goes to is picked by the method's proto package. A new service
// is one file of commands plus one AddServiceAddress call (--contracts-addr, ...).
//
// A call: sets request_id (when the request has one) to --request-id or a fresh UUID, adds
// `authorization: Bearer <token>` and the deadline, sends the request over a Transport (gRPC's
// generic stub in the binary, a fake in tests), then prints the response or the error.
//
// Exit codes: 0 success, 1 the call failed (stderr: `error: CODE: message` and one line per
// field violation), 2 usage error (CLI11's message on stderr).
//
// Not thread-safe: one Context per process, used from main's thread.
//
//   Context ctx(std::cout, std::cerr, std::cin);
//   CLI::App app{"coworkctl"};
//   ctx.AddGlobalOptions(app);
//   AddCustomersCommands(app, ctx);
//   int code = ctx.Run(app, argc, argv, MakeGrpcTransport);

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/server/tls.h"

namespace cowork::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCallFailed = 1;
inline constexpr int kExitUsage = 2;

enum class OutputFormat { kTable, kJson };

struct GlobalOptions {
  // Address of each service by proto package, e.g. "cowork.customers.v1" -> --customers-addr
  // / COWORK_CUSTOMERS_ADDR (default 127.0.0.1:50051). See Context::AddServiceAddress.
  std::map<std::string, std::string> addresses;
  // --token / COWORK_TOKEN: the bearer token sent with every call ("" sends none).
  std::string token;
  // --output json|table.
  OutputFormat output = OutputFormat::kTable;
  // --request-id: the request_id of the (first) mutating call; "" = a fresh UUID per call.
  std::string request_id;
  // --timeout: deadline of each call, e.g. "10s", "500ms" or plain seconds. Default 10 s.
  absl::Duration timeout = absl::Seconds(10);
  // --tls-ca-file (COWORK_TLS_CA_FILE): TLS verified with these CAs; none: plaintext.
  // --tls-cert-file, --tls-key-file (COWORK_CLIENT_CERT_FILE, COWORK_CLIENT_KEY_FILE): the
  // client certificate for services that require one (mutual TLS). --tls-server-name
  // (COWORK_TLS_SERVER_NAME): the name the service's certificate must carry, when it is not
  // the address's host (e.g. through kubectl port-forward).
  server::ClientTls tls;
};

// Sends one unary call. `method` is the full gRPC path, "/pkg.Service/Method".
class Transport {
 public:
  virtual ~Transport() = default;
  virtual grpc::Status Call(const std::string& method, grpc::ClientContext& context,
                            const google::protobuf::Message& request,
                            google::protobuf::Message* response) = 0;
};

// gRPC's generic stub over a channel to `address` (a blocking call), TLS as `tls` says.
// INVALID_ARGUMENT naming a TLS file that cannot be read.
absl::StatusOr<std::unique_ptr<Transport>> MakeGrpcTransport(const std::string& address,
                                                             const server::ClientTls& tls);

// How a response is printed.
struct OutputSpec {
  // When set: the response is a page; print the items of this repeated message field, one
  // JSON object per line or one table row each, and the next_page_token (to stderr) if any.
  std::string list_field;
  // Table columns for list items (field names, "a.b" for nested); empty = every scalar field.
  std::vector<std::string> columns;
  // With list_field empty, a page printed whole: the repeated field that --all gathers from
  // every page into the first.
  std::string paged_field;
};

class Context {
 public:
  // `in` is read by --*-stdin flags.
  Context(std::ostream& out, std::ostream& err, std::istream& in);

  // --customers-addr, --token, --output, --request-id, --timeout on `app`, with their
  // environment fallbacks.
  void AddGlobalOptions(CLI::App& app);
  // --<name>-addr (env COWORK_<NAME>_ADDR, default `default_address`): where the services of
  // proto package `package` listen. A service group that arrives later calls this once.
  void AddServiceAddress(CLI::App& app, absl::string_view name, absl::string_view package,
                         absl::string_view default_address);
  const GlobalOptions& options() const { return options_; }
  // Sends the calls of proto package `package` to the address of service `service` (e.g.
  // "contracts": --contracts-addr), for a package every service serves (the quarantine).
  // INVALID_ARGUMENT naming --service when there is no such service.
  absl::Status RouteToService(absl::string_view package, absl::string_view service);

  // Parses the command line and runs the chosen command. `factory` is called once per
  // address a command talks to, after a successful parse.
  using TransportFactory = std::function<absl::StatusOr<std::unique_ptr<Transport>>(
      const std::string& address, const server::ClientTls& tls)>;
  int Run(CLI::App& app, int argc, const char* const* argv, const TransportFactory& factory);

  // Called from a subcommand's callback: the work to do once parsing is over.
  void SetAction(std::function<int()> action) { action_ = std::move(action); }

  // The generic call helper. `full_method` is "pkg.Service/Method" (no leading slash); the
  // request and response types are checked against the method's descriptor. Prints the
  // response per `spec` and returns an exit code.
  int Call(absl::string_view full_method, google::protobuf::Message& request,
           google::protobuf::Message& response, const OutputSpec& spec = {});
  // Like Call, but prints nothing and returns the status (for commands that read before they
  // write, or that print a combination of answers).
  absl::Status CallQuiet(absl::string_view full_method, google::protobuf::Message& request,
                         google::protobuf::Message& response);
  // A List call; with `all_pages` follows next_page_token to the end, printing every item.
  int CallList(absl::string_view full_method, google::protobuf::Message& request,
               google::protobuf::Message& response, const OutputSpec& spec, bool all_pages);

  // Printing, also used directly by commands.
  void Print(const google::protobuf::Message& message, const OutputSpec& spec = {});
  int PrintError(const absl::Status& status);
  // `error: message` for a combination of flags CLI11 cannot check; returns kExitUsage.
  int PrintUsageError(const absl::Status& status);

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  std::istream& in() { return in_; }

 private:
  GlobalOptions options_;
  std::string output_text_ = "table";
  std::string timeout_text_ = "10s";
  std::ostream& out_;
  std::ostream& err_;
  std::istream& in_;
  std::function<int()> action_;
  TransportFactory factory_;
  std::map<std::string, std::unique_ptr<Transport>> transports_;  // by address
  bool request_id_used_ = false;
};

// ---------------------------------------------------------------- defining commands

// Finishes a request after parsing (enums, update masks) or rejects a combination of flags
// (the command then exits with kExitUsage). May be empty.
using Prepare = std::function<absl::Status()>;

// Registers `name` under `group`: a command whose flags fill a Request (bound by `bind`, which
// may return a Prepare) and whose action sends it to `method` ("pkg.Service/Method").
template <typename Request, typename Response>
CLI::App* AddCall(CLI::App& group, Context& ctx, const std::string& name,
                  const std::string& description, const std::string& method,
                  const std::function<Prepare(CLI::App&, Request&)>& bind,
                  const OutputSpec& spec = {});

// A List command: AddCall plus --page-size, --page-token and --all (follow every page).
template <typename Request, typename Response>
CLI::App* AddListCall(CLI::App& group, Context& ctx, const std::string& name,
                      const std::string& description, const std::string& method,
                      const std::function<Prepare(CLI::App&, Request&)>& bind,
                      const OutputSpec& spec);

// A required positional id: `coworkctl contracts get ct-123`.
void RequiredId(CLI::App& cmd, const std::string& name, std::string* field,
                const std::string& help);

// An enum flag (values as EnumValidator takes them). The returned function gives the chosen
// number after parsing, or `default_number` when the flag was not given.
std::function<int()> AddEnumOption(CLI::App& cmd, const std::string& flag,
                                   const google::protobuf::EnumDescriptor* enum_type,
                                   const std::string& help, int default_number = 0);

// "2026-05-31" -> that day; INVALID_ARGUMENT (saying why) for anything else, including days
// that do not exist (2026-02-30).
absl::StatusOr<google::type::Date> ParseDate(absl::string_view text);
// A YYYY-MM-DD flag. `field` is called only when the flag is given, so an absent flag leaves
// the date unset (the server's default) rather than an empty date.
void DateOption(CLI::App& cmd, const std::string& flag, std::function<google::type::Date*()> field,
                const std::string& help);

// An RFC 3339 instant ("2026-06-01T10:00:00+02:00", "2026-06-01T08:00:00Z").
absl::StatusOr<google::protobuf::Timestamp> ParseInstant(absl::string_view text);
// An instant flag, set through `field` only when given.
void InstantOption(CLI::App& cmd, const std::string& flag,
                   std::function<google::protobuf::Timestamp*()> field, const std::string& help,
                   bool required);

// Update commands: each flag writes one field of the resource and, when given, adds its path
// to the FieldMask.
class UpdateMaskFlags {
 public:
  void Add(CLI::App& cmd, const std::string& flag, std::string* field, const std::string& path,
           const std::string& help);
  // The paths of the flags given, in the order they were added. INVALID_ARGUMENT when none.
  absl::StatusOr<std::vector<std::string>> Given() const;

 private:
  std::vector<std::pair<CLI::Option*, std::string>> flags_;
};

// A mandatory password flag pair: --<name> (env COWORK_<NAME>, visible in `ps`) or
// --<name>-stdin (one line read from standard input). The Prepare copies it into `*field`.
Prepare AddPasswordOption(CLI::App& cmd, Context& ctx, const std::string& name,
                          std::string* field, const std::string& help, bool required);

template <typename Request, typename Response>
CLI::App* AddCall(CLI::App& group, Context& ctx, const std::string& name,
                  const std::string& description, const std::string& method,
                  const std::function<Prepare(CLI::App&, Request&)>& bind,
                  const OutputSpec& spec) {
  auto request = std::make_shared<Request>();
  CLI::App* cmd = group.add_subcommand(name, description);
  Prepare prepare = bind ? bind(*cmd, *request) : Prepare();
  cmd->callback([&ctx, request, prepare, method, spec] {
    ctx.SetAction([&ctx, request, prepare, method, spec] {
      if (prepare) {
        absl::Status status = prepare();
        if (!status.ok()) return ctx.PrintUsageError(status);
      }
      Response response;
      return ctx.Call(method, *request, response, spec);
    });
  });
  return cmd;
}

template <typename Request, typename Response>
CLI::App* AddListCall(CLI::App& group, Context& ctx, const std::string& name,
                      const std::string& description, const std::string& method,
                      const std::function<Prepare(CLI::App&, Request&)>& bind,
                      const OutputSpec& spec) {
  auto request = std::make_shared<Request>();
  auto all = std::make_shared<bool>(false);
  auto page_size = std::make_shared<int>(0);
  CLI::App* cmd = group.add_subcommand(name, description);
  Prepare prepare = bind ? bind(*cmd, *request) : Prepare();
  cmd->add_option("--page-size", *page_size, "Items per page (the server's default when 0)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--page-token", *request->mutable_page_token(),
                  "Continue from a previous page's next_page_token");
  cmd->add_flag("--all", *all, "Follow next_page_token until the last page");
  cmd->callback([&ctx, request, prepare, method, spec, all, page_size] {
    ctx.SetAction([&ctx, request, prepare, method, spec, all, page_size] {
      if (prepare) {
        absl::Status status = prepare();
        if (!status.ok()) return ctx.PrintUsageError(status);
      }
      request->set_page_size(*page_size);
      Response response;
      return ctx.CallList(method, *request, response, spec, *all);
    });
  });
  return cmd;
}

// ---------------------------------------------------------------- formatting helpers

// One line of JSON, field names as in the .proto, every field printed (defaults too).
std::string ToJsonLine(const google::protobuf::Message& message);
// A single message as a two-column FIELD / VALUE table (nested messages flattened as "a.b");
// each repeated message field follows as a table of its own, headed "<field>:".
std::string ToTable(const google::protobuf::Message& message);
// Messages of one type as an aligned table with a header row.
std::string ToListTable(const std::vector<const google::protobuf::Message*>& items,
                        const std::vector<std::string>& columns);
// The value of `path` ("a" or "a.b") in `message`, as table text: enums by name, timestamps
// in RFC 3339, dates as YYYY-MM-DD, repeated values joined with ",", unset messages and empty
// strings as "".
std::string FieldText(const google::protobuf::Message& message, absl::string_view path);
// Rows of cells as aligned columns (two spaces between columns, no trailing spaces).
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);

// `error: CODE: message` plus `  field: description` per field violation, each line ending
// in a newline.
std::string FormatError(const absl::Status& status);

// "10s", "1.5s", "500ms", "2m" (absl::ParseDuration) or plain seconds ("30"), > 0.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

// A CLI11 validator accepting the value names of `enum_type` case-insensitively (with or
// without a prefix such as "CUSTOMER_KIND_", "-" for "_": one-off is ONE_OFF), leaving the
// canonical name in the option.
CLI::Validator EnumValidator(const google::protobuf::EnumDescriptor* enum_type);
// The number of the canonical enum name left by EnumValidator (0 for "").
int EnumNumber(const google::protobuf::EnumDescriptor* enum_type, const std::string& name);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_CTL_H_
