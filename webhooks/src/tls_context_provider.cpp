#include "tls_context_provider.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <cstring>
#include <stdexcept>

#include "podmortem/core/log.h"

namespace podmortem::webhooks {

namespace log = core::log;
namespace ssl = boost::asio::ssl;

namespace {

std::string fileIdentity(const std::string& path) {
  if (path.empty()) return "-";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return path + ":missing";
  return path + ":" + std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
         std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec);
}

// Offer only HTTP/1.1 by ALPN: that is all the server speaks.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

TlsContextProvider::TlsContextProvider(std::string certFile, std::string keyFile,
                                       std::string clientCAFile)
    : certFile_(std::move(certFile)),
      keyFile_(std::move(keyFile)),
      clientCAFile_(std::move(clientCAFile)) {
  fingerprint_ = fingerprint();
  context_ = build();
}

std::shared_ptr<ssl::context> TlsContextProvider::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

bool TlsContextProvider::reloadIfChanged() {
  std::string now = fingerprint();
  {
    std::lock_guard lock(mutex_);
    if (now == fingerprint_) return false;
  }
  try {
    auto fresh = build();
    std::lock_guard lock(mutex_);
    context_ = std::move(fresh);
    fingerprint_ = now;
  } catch (const std::exception& error) {
    // Keep serving with the old pair; the next check retries (the other file may still be
    // on its way).
    log::warn("TLS files changed but could not be loaded; keeping the previous certificate",
              {{"error", error.what()}});
    return false;
  }
  log::info("TLS certificate reloaded", {{"certFile", certFile_}});
  return true;
}

std::string TlsContextProvider::fingerprint() const {
  return fileIdentity(certFile_) + "|" + fileIdentity(keyFile_) + "|" + fileIdentity(clientCAFile_);
}

std::shared_ptr<ssl::context> TlsContextProvider::build() const {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(native, selectAlpn, nullptr);
  boost::system::error_code ec;
  context->use_certificate_chain_file(certFile_, ec);
  if (ec) throw std::runtime_error("cannot load tls.certFile " + certFile_ + ": " + ec.message());
  context->use_private_key_file(keyFile_, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load tls.keyFile " + keyFile_ + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("tls.keyFile " + keyFile_ + " does not match tls.certFile " + certFile_);
  }
  if (!clientCAFile_.empty()) {
    context->load_verify_file(clientCAFile_, ec);
    if (ec) {
      throw std::runtime_error("cannot load tls.clientCAFile " + clientCAFile_ + ": " + ec.message());
    }
    // Ask for a client certificate but let the handshake finish without one: /validate does not
    // need it, and /audit turns a missing or unverified certificate into a 401 it can count.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(clientCAFile_.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
  }
  static const unsigned char kSessionContext[] = "podmortem";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  return context;
}

}  // namespace podmortem::webhooks
