#include "tools/coworkctl/ctl.h"

#include <algorithm>
#include <istream>
#include <ostream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "libs/clock/clock.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/server/grpc_status.h"
#include "libs/status/field_errors.h"

namespace cowork::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class GrpcTransport final : public Transport {
 public:
  explicit GrpcTransport(std::shared_ptr<grpc::Channel> channel) : stub_(std::move(channel)) {}

  grpc::Status Call(const std::string& method, grpc::ClientContext& context,
                    const Message& request, Message* response) override {
    absl::Notification done;
    grpc::Status result;
    stub_.UnaryCall(&context, method, grpc::StubOptions(), &request, response,
                    [&](grpc::Status status) {
                      result = std::move(status);
                      done.Notify();
                    });
    done.WaitForNotification();
    return result;
  }

 private:
  grpc::TemplatedGenericStub<Message, Message> stub_;
};

// Well-known messages printed as one value rather than flattened.
bool IsLeafMessage(const Descriptor* d) {
  const std::string& name = d->full_name();
  return name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" ||
         name == "google.protobuf.FieldMask" || name == "google.type.Date";
}

// Control characters would break a table's alignment; show them escaped.
std::string Printable(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string LeafMessageText(const Message& m) {
  const std::string& name = m.GetDescriptor()->full_name();
  if (name == "google.protobuf.Timestamp") {
    const Reflection* r = m.GetReflection();
    const Descriptor* d = m.GetDescriptor();
    if (r->GetInt64(m, d->FindFieldByName("seconds")) == 0 &&
        r->GetInt32(m, d->FindFieldByName("nanos")) == 0) {
      return "";
    }
    google::protobuf::Timestamp ts;
    ts.ParseFromString(m.SerializeAsString());
    return google::protobuf::util::TimeUtil::ToString(ts);
  }
  if (name == "google.type.Date") {
    const Reflection* r = m.GetReflection();
    const Descriptor* d = m.GetDescriptor();
    const int year = r->GetInt32(m, d->FindFieldByName("year"));
    const int month = r->GetInt32(m, d->FindFieldByName("month"));
    const int day = r->GetInt32(m, d->FindFieldByName("day"));
    if (year == 0 && month == 0 && day == 0) return "";
    return absl::StrFormat("%04d-%02d-%02d", year, month, day);
  }
  if (name == "google.protobuf.FieldMask") {
    google::protobuf::FieldMask mask;
    mask.ParseFromString(m.SerializeAsString());
    return google::protobuf::util::FieldMaskUtil::ToString(mask);
  }
  return ToJsonLine(m);
}

std::string SingleValueText(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM: {
      int number = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const auto* value = f->enum_type()->FindValueByNumber(number);
      return value != nullptr ? value->name() : absl::StrCat(number);
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      return f->type() == FieldDescriptor::TYPE_BYTES ? absl::Base64Escape(s) : Printable(s);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (!rep && !r->HasField(m, f)) return "";
      const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
      return IsLeafMessage(sub.GetDescriptor()) ? LeafMessageText(sub) : ToJsonLine(sub);
    }
  }
  return "";
}

std::string ValueText(const Message& m, const FieldDescriptor* f) {
  if (!f->is_repeated()) return SingleValueText(m, f, 0);
  std::vector<std::string> parts;
  const int n = m.GetReflection()->FieldSize(m, f);
  for (int i = 0; i < n; ++i) parts.push_back(SingleValueText(m, f, i));
  return absl::StrJoin(parts, ",");
}

// Display width: UTF-8 code points, so names with accents still line up.
size_t DisplayWidth(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

void FlattenInto(const Message& m, const std::string& prefix,
                 std::vector<std::vector<std::string>>& rows,
                 std::vector<std::pair<std::string, const FieldDescriptor*>>& tables,
                 std::vector<const Message*>& table_owners) {
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string name = prefix + f->name();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsLeafMessage(f->message_type())) {
      if (f->is_repeated()) {
        tables.emplace_back(name, f);
        table_owners.push_back(&m);
      } else {
        FlattenInto(m.GetReflection()->GetMessage(m, f), name + ".", rows, tables, table_owners);
      }
      continue;
    }
    rows.push_back({name, ValueText(m, f)});
  }
}

// Every column a table of `d` shows by default: fields that print as one value.
std::vector<std::string> DefaultColumns(const Descriptor* d) {
  std::vector<std::string> columns;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsLeafMessage(f->message_type())) {
      continue;
    }
    columns.push_back(f->name());
  }
  return columns;
}

// "pkg.Service/Method" -> method descriptor, or nullptr.
const google::protobuf::MethodDescriptor* FindMethod(absl::string_view full_method) {
  std::vector<std::string> parts = absl::StrSplit(full_method, '/');
  if (parts.size() != 2) return nullptr;
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(parts[0]);
  return service == nullptr ? nullptr : service->FindMethodByName(parts[1]);
}

std::string Upper(absl::string_view s) {
  std::string out = absl::AsciiStrToUpper(s);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

// The prefix the values of an enum share, from its zero value ("CUSTOMER_KIND_UNSPECIFIED"
// -> "CUSTOMER_KIND_"), or "" when it has none.
std::string EnumPrefix(const EnumDescriptor* e) {
  const auto* zero = e->FindValueByNumber(0);
  if (zero == nullptr) return "";
  absl::string_view name = zero->name();
  constexpr absl::string_view kUnspecified = "UNSPECIFIED";
  if (!absl::EndsWith(name, kUnspecified)) return "";
  return std::string(name.substr(0, name.size() - kUnspecified.size()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> MakeGrpcTransport(const std::string& address,
                                                             const server::ClientTls& tls) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = server::NewChannel(address, tls);
  if (!channel.ok()) return channel.status();
  return std::make_unique<GrpcTransport>(*std::move(channel));
}

Context::Context(std::ostream& out, std::ostream& err, std::istream& in)
    : out_(out), err_(err), in_(in) {}

void Context::AddGlobalOptions(CLI::App& app) {
  // Global options may come after the command too (`customers get c-1 -o json`); subcommands
  // added later inherit this.
  app.fallthrough();
  AddServiceAddress(app, "customers", "cowork.customers.v1", "127.0.0.1:50051");
  app.add_option("--token", options_.token,
                 "Bearer token (JWT) sent with every call; see cowork-token")
      ->envname("COWORK_TOKEN");
  app.add_option("--output,-o", output_text_, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--request-id", options_.request_id,
                 "request_id of the mutating call (default: a fresh UUID per call); "
                 "retry with the same id to have it done once");
  app.add_option("--tls-ca-file", options_.tls.ca_file,
                 "PEM CAs to verify the services' TLS certificates with (none: plaintext)")
      ->envname("COWORK_TLS_CA_FILE");
  app.add_option("--tls-cert-file", options_.tls.cert_file,
                 "PEM client certificate, for services that require one (mutual TLS)")
      ->envname("COWORK_CLIENT_CERT_FILE");
  app.add_option("--tls-key-file", options_.tls.key_file, "PEM private key of --tls-cert-file")
      ->envname("COWORK_CLIENT_KEY_FILE");
  app.add_option("--tls-server-name", options_.tls.server_name,
                 "Name the services' certificates must carry, when not the address's host")
      ->envname("COWORK_TLS_SERVER_NAME");
  app.add_option("--timeout", timeout_text_, "Deadline of each call, e.g. 10s, 500ms")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            absl::StatusOr<absl::Duration> d = ParseTimeout(text);
            return d.ok() ? "" : std::string(d.status().message());
          },
          "DURATION"))
      ->capture_default_str();
}

void Context::AddServiceAddress(CLI::App& app, absl::string_view name, absl::string_view package,
                                absl::string_view default_address) {
  std::string& address = options_.addresses[std::string(package)];
  address = std::string(default_address);
  app.add_option(absl::StrCat("--", name, "-addr"), address,
                 absl::StrCat("Address of the ", name, " service"))
      ->envname(absl::StrCat("COWORK_", absl::AsciiStrToUpper(name), "_ADDR"))
      ->capture_default_str();
}

absl::Status Context::RouteToService(absl::string_view package, absl::string_view service) {
  auto address = options_.addresses.find(absl::StrCat("cowork.", service, ".v1"));
  if (service.empty() || address == options_.addresses.end()) {
    std::vector<std::string> services;
    for (const auto& [known, _] : options_.addresses) {
      absl::string_view name = known;
      if (absl::ConsumePrefix(&name, "cowork.") && absl::ConsumeSuffix(&name, ".v1")) {
        services.emplace_back(name);
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("--service: no service \"", service, "\" (",
                                                   absl::StrJoin(services, ", "), ")"));
  }
  options_.addresses[std::string(package)] = address->second;
  return absl::OkStatus();
}

int Context::Run(CLI::App& app, int argc, const char* const* argv,
                 const TransportFactory& factory) {
  factory_ = factory;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out_, err_);
    return code == 0 ? kExitOk : kExitUsage;
  }
  options_.output = output_text_ == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  options_.timeout = *ParseTimeout(timeout_text_);  // the validator accepted it
  if (!action_) {
    err_ << app.help();
    return kExitUsage;
  }
  return action_();
}

absl::Status Context::CallQuiet(absl::string_view full_method, Message& request,
                                Message& response) {
  const google::protobuf::MethodDescriptor* method = FindMethod(full_method);
  // A wrong name or type here is a bug in a command definition, not a user error; the
  // command tests call every command, so this fails there first.
  if (method == nullptr || method->input_type() != request.GetDescriptor() ||
      method->output_type() != response.GetDescriptor()) {
    return absl::InternalError(
        absl::StrCat("coworkctl bug: no method ", full_method, " taking ",
                     request.GetDescriptor()->full_name(), " and returning ",
                     response.GetDescriptor()->full_name()));
  }
  const FieldDescriptor* request_id = request.GetDescriptor()->FindFieldByName("request_id");
  if (request_id != nullptr && request_id->type() == FieldDescriptor::TYPE_STRING &&
      !request_id->is_repeated() &&
      request.GetReflection()->GetString(request, request_id).empty()) {
    std::string id = options_.request_id;
    if (id.empty() || request_id_used_) id = crypto::NewUuid();
    request_id_used_ = true;
    request.GetReflection()->SetString(&request, request_id, std::move(id));
  }
  auto address = options_.addresses.find(method->service()->file()->package());
  if (address == options_.addresses.end()) {
    return absl::InternalError(
        absl::StrCat("coworkctl bug: no address option for ", method->service()->full_name()));
  }
  std::unique_ptr<Transport>& transport = transports_[address->second];
  if (transport == nullptr) {
    absl::StatusOr<std::unique_ptr<Transport>> made = factory_(address->second, options_.tls);
    if (!made.ok()) return made.status();
    transport = *std::move(made);
  }

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(RealClock::Get().Now() + options_.timeout));
  if (!options_.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
  response.Clear();
  grpc::Status status =
      transport->Call(absl::StrCat("/", full_method), context, request, &response);
  return server::FromGrpcStatus(status);
}

int Context::Call(absl::string_view full_method, Message& request, Message& response,
                  const OutputSpec& spec) {
  absl::Status status = CallQuiet(full_method, request, response);
  if (!status.ok()) return PrintError(status);
  Print(response, spec);
  return kExitOk;
}

int Context::CallList(absl::string_view full_method, Message& request, Message& response,
                      const OutputSpec& spec, bool all_pages) {
  if (!all_pages) return Call(full_method, request, response, spec);
  const FieldDescriptor* page_token = request.GetDescriptor()->FindFieldByName("page_token");
  const FieldDescriptor* next_token = response.GetDescriptor()->FindFieldByName("next_page_token");
  const FieldDescriptor* items = response.GetDescriptor()->FindFieldByName(
      spec.list_field.empty() ? spec.paged_field : spec.list_field);
  if (page_token == nullptr || next_token == nullptr || items == nullptr) {
    return PrintError(absl::InternalError(
        absl::StrCat("coworkctl bug: ", full_method, " is not a paged list")));
  }
  // Every page's items gathered in the first page, so a table lines up across pages.
  std::unique_ptr<Message> all;
  std::string previous;
  while (true) {
    absl::Status status = CallQuiet(full_method, request, response);
    if (!status.ok()) return PrintError(status);
    const Reflection* r = response.GetReflection();
    if (all == nullptr) {
      all.reset(response.New());
      all->CopyFrom(response);
    } else {
      for (int i = 0; i < r->FieldSize(response, items); ++i) {
        all->GetReflection()->AddMessage(all.get(), items)->CopyFrom(
            r->GetRepeatedMessage(response, items, i));
      }
    }
    std::string next = r->GetString(response, next_token);
    if (next.empty()) break;
    if (next == previous) {
      return PrintError(absl::InternalError("the server returned the same page token twice"));
    }
    request.GetReflection()->SetString(&request, page_token, next);
    previous = std::move(next);
  }
  all->GetReflection()->ClearField(all.get(), next_token);
  Print(*all, spec);
  return kExitOk;
}

void Context::Print(const Message& message, const OutputSpec& spec) {
  if (spec.list_field.empty()) {
    out_ << (options_.output == OutputFormat::kJson ? ToJsonLine(message) + "\n"
                                                     : ToTable(message));
    return;
  }
  const Descriptor* d = message.GetDescriptor();
  const FieldDescriptor* items = d->FindFieldByName(spec.list_field);
  const Reflection* r = message.GetReflection();
  std::vector<const Message*> list;
  for (int i = 0; i < r->FieldSize(message, items); ++i) {
    list.push_back(&r->GetRepeatedMessage(message, items, i));
  }
  if (options_.output == OutputFormat::kJson) {
    for (const Message* m : list) out_ << ToJsonLine(*m) << "\n";
  } else {
    std::vector<std::string> columns = spec.columns;
    if (columns.empty()) columns = DefaultColumns(items->message_type());
    out_ << ToListTable(list, columns);
  }
  const FieldDescriptor* next = d->FindFieldByName("next_page_token");
  if (next != nullptr && !r->GetString(message, next).empty()) {
    // stderr, so stdout stays one item per line for scripts.
    err_ << "next_page_token: " << r->GetString(message, next) << "\n";
  }
}

int Context::PrintError(const absl::Status& status) {
  err_ << FormatError(status);
  return kExitCallFailed;
}

int Context::PrintUsageError(const absl::Status& status) {
  err_ << "error: " << Printable(status.message()) << "\n";
  return kExitUsage;
}

std::function<int()> AddEnumOption(CLI::App& cmd, const std::string& flag,
                                   const EnumDescriptor* enum_type, const std::string& help,
                                   int default_number) {
  auto value = std::make_shared<std::string>();
  cmd.add_option(flag, *value, help)->transform(EnumValidator(enum_type));
  return [enum_type, value, default_number] {
    return value->empty() ? default_number : EnumNumber(enum_type, *value);
  };
}

void UpdateMaskFlags::Add(CLI::App& cmd, const std::string& flag, std::string* field,
                          const std::string& path, const std::string& help) {
  flags_.emplace_back(cmd.add_option(flag, *field, help), path);
}

absl::StatusOr<std::vector<std::string>> UpdateMaskFlags::Given() const {
  std::vector<std::string> paths;
  std::vector<std::string> names;
  for (const auto& [option, path] : flags_) {
    if (option->count() > 0) paths.push_back(path);
    names.push_back(option->get_name());
  }
  if (paths.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("nothing to update: give at least one of ", absl::StrJoin(names, ", ")));
  }
  return paths;
}

Prepare AddPasswordOption(CLI::App& cmd, Context& ctx, const std::string& name,
                          std::string* field, const std::string& help, bool required) {
  auto from_stdin = std::make_shared<bool>(false);
  CLI::Option* direct =
      cmd.add_option(absl::StrCat("--", name), *field,
                     absl::StrCat(help, " (visible to other users in `ps`; prefer --", name,
                                  "-stdin or COWORK_", Upper(name), ")"))
          ->envname(absl::StrCat("COWORK_", Upper(name)));
  CLI::Option* piped = cmd.add_flag(absl::StrCat("--", name, "-stdin"), *from_stdin,
                                    absl::StrCat("Read the ", name, " from standard input"));
  direct->excludes(piped);
  return [&ctx, from_stdin, field, name, required]() -> absl::Status {
    if (*from_stdin) {
      std::string line;
      if (!std::getline(ctx.in(), line)) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, "-stdin: no line to read"));
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      *field = std::move(line);
    }
    if (required && field->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " or --", name, "-stdin is required"));
    }
    return absl::OkStatus();
  };
}

std::string ToJsonLine(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    // Only an Any of an unknown type can fail; fall back to the text form.
    return absl::StrCat("{\"unprintable\":\"", absl::CEscape(message.ShortDebugString()),
                        "\"}");
  }
  return json;
}

std::string ToTable(const Message& message) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::pair<std::string, const FieldDescriptor*>> tables;
  std::vector<const Message*> owners;
  FlattenInto(message, "", rows, tables, owners);
  std::string out = AlignColumns(rows);
  for (size_t t = 0; t < tables.size(); ++t) {
    const Message& owner = *owners[t];
    const FieldDescriptor* f = tables[t].second;
    std::vector<const Message*> items;
    for (int i = 0; i < owner.GetReflection()->FieldSize(owner, f); ++i) {
      items.push_back(&owner.GetReflection()->GetRepeatedMessage(owner, f, i));
    }
    absl::StrAppend(&out, "\n", tables[t].first, ":\n",
                    ToListTable(items, DefaultColumns(f->message_type())));
  }
  return out;
}

std::string ToListTable(const std::vector<const Message*>& items,
                        const std::vector<std::string>& columns) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  for (const std::string& c : columns) header.push_back(absl::AsciiStrToUpper(c));
  rows.push_back(std::move(header));
  for (const Message* m : items) {
    std::vector<std::string> row;
    for (const std::string& c : columns) row.push_back(FieldText(*m, c));
    rows.push_back(std::move(row));
  }
  return AlignColumns(rows);
}

std::string FieldText(const Message& message, absl::string_view path) {
  const Message* m = &message;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (f == nullptr) return "";
    if (i + 1 == parts.size()) return ValueText(*m, f);
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) return "";
    if (!m->GetReflection()->HasField(*m, f)) return "";
    m = &m->GetReflection()->GetMessage(*m, f);
  }
  return "";
}

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatError(const absl::Status& status) {
  std::string out = absl::StrCat("error: ", absl::StatusCodeToString(status.code()), ": ",
                                 Printable(status.message()), "\n");
  for (const FieldViolation& v : FieldViolationsOf(status)) {
    absl::StrAppend(&out, "  ", Printable(v.field), ": ", Printable(v.description), "\n");
  }
  return out;
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a duration: \"", text, "\" (examples: 10s, 500ms, 2m, 30)"));
  }
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("the timeout must be positive: ", text));
  }
  return d;
}

CLI::Validator EnumValidator(const EnumDescriptor* enum_type) {
  std::vector<std::string> names;
  for (int i = 0; i < enum_type->value_count(); ++i) {
    if (enum_type->value(i)->number() == 0) continue;
    std::string name = enum_type->value(i)->name();
    const std::string prefix = EnumPrefix(enum_type);
    if (!prefix.empty() && absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
    // Shown as typed on a command line: ONE_OFF -> one-off (Upper maps it back).
    std::replace(name.begin(), name.end(), '_', '-');
    names.push_back(absl::AsciiStrToLower(name));
  }
  const std::string description = absl::StrCat("{", absl::StrJoin(names, ","), "}");
  return CLI::Validator(
      [enum_type, description](std::string& value) -> std::string {
        const std::string upper = Upper(value);
        const std::string prefix = EnumPrefix(enum_type);
        for (const std::string& candidate : {upper, prefix + upper}) {
          const auto* v = enum_type->FindValueByName(candidate);
          if (v != nullptr && v->number() != 0) {
            value = v->name();
            return "";
          }
        }
        return absl::StrCat("\"", value, "\" is not one of ", description);
      },
      description);
}

int EnumNumber(const EnumDescriptor* enum_type, const std::string& name) {
  if (name.empty()) return 0;
  const auto* v = enum_type->FindValueByName(name);
  return v == nullptr ? 0 : v->number();
}

void RequiredId(CLI::App& cmd, const std::string& name, std::string* field,
                const std::string& help) {
  cmd.add_option(name, *field, help)->required();
}

// "2026-05-31" -> that day; INVALID_ARGUMENT (saying why) for anything else, including days
// that do not exist (2026-02-30).
absl::StatusOr<google::type::Date> ParseDate(absl::string_view text) {
  bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-';
  for (size_t i = 0; shaped && i < text.size(); ++i) {
    if (i != 4 && i != 7 && !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      shaped = false;
    }
  }
  int year = 0;
  int month = 0;
  int day = 0;
  if (!shaped || !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::SimpleAtoi(text.substr(5, 2), &month) || !absl::SimpleAtoi(text.substr(8, 2), &day)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a date: use YYYY-MM-DD, e.g. 2026-05-31"));
  }
  google::type::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  if (!FromDate(date).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a calendar day"));
  }
  return date;
}

// A YYYY-MM-DD flag. `field` is called only when the flag is given, so an absent flag leaves
// the date unset (the server's default) rather than an empty date.
void DateOption(CLI::App& cmd, const std::string& flag, std::function<google::type::Date*()> field,
                const std::string& help) {
  cmd.add_option_function<std::string>(
         flag, [field](const std::string& text) { *field() = *ParseDate(text); }, help)
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            absl::StatusOr<google::type::Date> date = ParseDate(text);
            return date.ok() ? "" : std::string(date.status().message());
          },
          "YYYY-MM-DD"));
}

absl::StatusOr<google::protobuf::Timestamp> ParseInstant(absl::string_view text) {
  absl::Time t;
  std::string why;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &why)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not an instant: use RFC 3339, e.g. 2026-06-01T10:00:00+02:00"));
  }
  return ToTimestamp(t);
}

void InstantOption(CLI::App& cmd, const std::string& flag,
                   std::function<google::protobuf::Timestamp*()> field, const std::string& help,
                   bool required) {
  CLI::Option* option =
      cmd.add_option_function<std::string>(
             flag, [field](const std::string& text) { *field() = *ParseInstant(text); }, help)
          ->check(CLI::Validator(
              [](std::string& text) -> std::string {
                absl::StatusOr<google::protobuf::Timestamp> t = ParseInstant(text);
                return t.ok() ? "" : std::string(t.status().message());
              },
              "RFC3339"));
  if (required) option->required();
}

}  // namespace cowork::ctl
