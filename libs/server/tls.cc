// TLS of the gRPC ports (ServerTls) and of the clients that call them (ClientTls, NewChannel).

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "libs/server/server.h"
#include "libs/server/tls.h"

namespace cowork::server {
namespace {

// How often a changed certificate or key file is read again.
constexpr unsigned int kReloadSeconds = 60;

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in || content.str().find("-----BEGIN") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " cannot be read as a PEM file"));
  }
  return content.str();
}

// OK when the key is the private key of the chain's first certificate.
absl::Status CheckPair(const std::string& cert_pem, const std::string& key_pem,
                       const ServerTls& tls) {
  struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
  };
  std::unique_ptr<BIO, BioFree> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (cert == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tls-cert-file ", tls.cert_file, " holds no certificate"));
  }
  if (key == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tls-key-file ", tls.key_file, " holds no private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--tls-key-file ", tls.key_file, " is not the key of --tls-cert-file ", tls.cert_file));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServerTls& tls) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) {
      return absl::FailedPreconditionError(
          "--tls-client-ca-file needs --tls-cert-file and --tls-key-file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::FailedPreconditionError("--tls-cert-file and --tls-key-file go together");
  }
  absl::StatusOr<std::string> cert = ReadPem(tls.cert_file, "--tls-cert-file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.key_file, "--tls-key-file");
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckPair(*cert, *key, tls); !s.ok()) return s;
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.client_ca_file, "--tls-client-ca-file");
    if (!ca.ok()) return ca.status();
  }
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.client_ca_file, kReloadSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls.client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const ClientTls& tls, grpc::ChannelArguments& args) {
  if (tls.ca_file.empty()) {
    if (!tls.cert_file.empty() || !tls.key_file.empty()) {
      return absl::InvalidArgumentError("a client certificate needs the server's CA too");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  for (const auto& [path, field, what] :
       {std::tuple{&tls.ca_file, &ssl.pem_root_certs, "CA file"},
        {&tls.cert_file, &ssl.pem_cert_chain, "client certificate"},
        {&tls.key_file, &ssl.pem_private_key, "client key"}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadPem(*path, what);
    if (!pem.ok()) return absl::InvalidArgumentError(pem.status().message());
    *field = *std::move(pem);
  }
  if (ssl.pem_cert_chain.empty() != ssl.pem_private_key.empty()) {
    return absl::InvalidArgumentError("a client certificate and its key go together");
  }
  if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(const std::string& address,
                                                          const ClientTls& tls) {
  grpc::ChannelArguments args;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ClientCredentials(tls, args);
  if (!credentials.ok()) return credentials.status();
  return grpc::CreateCustomChannel(address, *credentials, args);
}

}  // namespace cowork::server
