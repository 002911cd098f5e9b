#include "https_client.h"

#include <openssl/pem.h>

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace podmortem::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

class HttpClient::Impl {
 public:
  Impl(uint16_t port, ClientOptions options)
      : port_(port), options_(std::move(options)), context_(ssl::context::tls_client) {
    if (!options_.caFile.empty()) {
      context_.load_verify_file(options_.caFile);
      context_.set_verify_mode(ssl::verify_peer);
    }
    if (!options_.clientCertFile.empty()) {
      context_.use_certificate_chain_file(options_.clientCertFile);
      context_.use_private_key_file(options_.clientKeyFile, ssl::context::pem);
    }
  }

  ClientResponse request(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& contentType,
                         const std::map<std::string, std::string>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        connectIfNeeded();
        return exchange(method, target, body, contentType, headers);
      } catch (const boost::system::system_error&) {
        reset();
        if (attempt == 1) throw;
      }
    }
    return {};
  }

  std::string peerCertificatePem() {
    connectIfNeeded();
    X509* cert = SSL_get0_peer_certificate(tls_->native_handle());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(size));
    BIO_free(bio);
    return pem;
  }

 private:
  bool tls() const { return !options_.caFile.empty(); }

  void connectIfNeeded() {
    if (tls_ || plain_) return;
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port_);
    if (tls()) {
      tls_.emplace(io_, context_);
      SSL_set_tlsext_host_name(tls_->native_handle(), "localhost");
      tls_->set_verify_callback(ssl::host_name_verification("localhost"));
      beast::get_lowest_layer(*tls_).connect(endpoint);
      tls_->handshake(ssl::stream_base::client);
    } else {
      plain_.emplace(io_);
      plain_->connect(endpoint);
    }
  }

  void reset() {
    tls_.reset();
    plain_.reset();
    buffer_.clear();
  }

  template <class Stream>
  ClientResponse exchangeOn(Stream& stream, http::request<http::string_body>& req) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
    http::write(stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer_, parser);
    auto res = parser.release();
    ClientResponse response;
    response.status = res.result_int();
    response.body = res.body();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = std::string(field.value());
    }
    if (!res.keep_alive()) reset();
    return response;
  }

  ClientResponse exchange(const std::string& method, const std::string& target,
                          const std::string& body, const std::string& contentType,
                          const std::map<std::string, std::string>& headers) {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "localhost");
    if (!contentType.empty()) req.set(http::field::content_type, contentType);
    bool chunked = false;
    for (const auto& [name, value] : headers) {
      if (name == "Transfer-Encoding" && value == "chunked") {
        chunked = true;
      } else {
        req.set(name, value);
      }
    }
    req.body() = body;
    if (chunked) {
      req.chunked(true);
    } else {
      req.prepare_payload();
    }
    if (tls_) return exchangeOn(*tls_, req);
    return exchangeOn(*plain_, req);
  }

  uint16_t port_;
  ClientOptions options_;
  net::io_context io_;
  ssl::context context_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
};

HttpClient::HttpClient(uint16_t port, ClientOptions options)
    : impl_(std::make_unique<Impl>(port, std::move(options))) {}
HttpClient::~HttpClient() = default;

ClientResponse HttpClient::request(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& contentType,
                                   const std::map<std::string, std::string>& headers) {
  return impl_->request(method, target, body, contentType, headers);
}

std::string HttpClient::peerCertificatePem() { return impl_->peerCertificatePem(); }

}  // namespace podmortem::testing
