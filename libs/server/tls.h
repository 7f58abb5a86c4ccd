#ifndef COWORK_LIBS_SERVER_TLS_H_
#define COWORK_LIBS_SERVER_TLS_H_

// The server side of ServerTls (server.h): the credentials a gRPC port listens with.
//
// Thread-safe.

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "libs/server/server.h"

namespace cowork::server {

// Plaintext for an empty ServerTls; TLS (mutual with client_ca_file) otherwise, the files
// reloaded when they change. FAILED_PRECONDITION naming the flag whose file is missing, not
// PEM, or whose key does not belong to the certificate.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServerTls& tls);

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_TLS_H_
