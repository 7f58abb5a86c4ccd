#ifndef COWORK_LIBS_SERVER_TLS_H_
#define COWORK_LIBS_SERVER_TLS_H_

// TLS of gRPC ports and of the clients that call them (mutual TLS optional). Certificate
// files are read again when they change: a renewed certificate needs no restart.
//
// Thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/server_credentials.h"

namespace cowork::server {

// TLS of a gRPC port. cert_file and key_file both empty: plaintext. The files are read again
// when they change (a renewed certificate needs no restart).
struct ServerTls {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key of the first certificate
  std::string client_ca_file;  // PEM CAs; set: clients must present a certificate they signed
};

// Plaintext for an empty ServerTls; TLS (mutual with client_ca_file) otherwise, the files
// reloaded when they change. FAILED_PRECONDITION naming the flag whose file is missing, not
// PEM, or whose key does not belong to the certificate.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServerTls& tls);

// How a client reaches a gRPC port: plaintext when ca_file is empty; else TLS verified with
// the CAs of ca_file, presenting cert_file and key_file when given (mutual TLS), checking the
// server's certificate for server_name when given (instead of the address's host).
struct ClientTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
};
// The credentials of a client; `args` gets the server name override. INVALID_ARGUMENT naming
// a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const ClientTls& tls, grpc::ChannelArguments& args);
// A channel to `address` with those credentials.
absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(const std::string& address,
                                                          const ClientTls& tls = {});

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_TLS_H_
