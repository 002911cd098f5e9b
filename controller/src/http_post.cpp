#include "http_post.h"

#include <cpprest/http_client.h>
#include <openssl/ssl.h>

#include <cctype>
#include <fstream>
#include <stdexcept>

#include "podmortem/core/version.h"

namespace podmortem::controller {

namespace http = web::http;

namespace {

constexpr size_t kKeptBodyBytes = 1024;

std::string trim(std::string text) {
  auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

class HttpPoster::Impl {
 public:
  Impl(const SinkSettings& settings, std::string url) : url_(std::move(url)), shownUrl_(redacted(url_)) {
    http::client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(settings.timeout));
    config.set_max_redirects(0);
    config.set_validate_certificates(true);
    std::string caFile = settings.caFile, certFile = settings.certFile, keyFile = settings.keyFile;
    config.set_ssl_context_callback([caFile, certFile, keyFile](boost::asio::ssl::context& context) {
      SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
      if (!caFile.empty()) {
        // cpprestsdk loaded the system's CAs before this runs: caFile replaces them, so that
        // only certificates it signed are accepted.
        SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());
        context.load_verify_file(caFile);
      } else {
        context.set_default_verify_paths();
      }
      if (!certFile.empty()) {
        context.use_certificate_chain_file(certFile);
        context.use_private_key_file(keyFile, boost::asio::ssl::context::pem);
      }
    });
    client_ = std::make_unique<http::client::http_client>(web::uri(url_), config);
  }

  HttpAnswer post(const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body) {
    HttpAnswer answer;
    try {
      http::http_request request(http::methods::POST);
      for (const auto& [name, value] : headers) request.headers().add(name, value);
      request.headers().add(http::header_names::user_agent, "podmortem/" + std::string(core::version()));
      // The byte-vector overload: set_body(std::string) goes through a uint8_t stream of chars.
      request.set_body(std::vector<unsigned char>(body.begin(), body.end()));
      request.headers().set_content_type("application/json");
      http::http_response response = client_->request(request).get();
      answer.status = response.status_code();
      auto bytes = response.extract_vector().get();
      answer.body.assign(bytes.begin(), bytes.begin() + std::min(bytes.size(), kKeptBodyBytes));
    } catch (const std::exception& error) {
      answer.status = 0;
      answer.error = "POST " + shownUrl_ + " failed: " + error.what();
    }
    return answer;
  }

 private:
  // scheme://host:port/path: a URL's user information and query may hold credentials.
  static std::string redacted(const std::string& url) {
    web::uri parsed(url);
    return parsed.scheme() + "://" + parsed.host() +
           (parsed.port() > 0 ? ":" + std::to_string(parsed.port()) : "") + parsed.path();
  }

  std::string url_;
  std::string shownUrl_;
  std::unique_ptr<http::client::http_client> client_;
};

HttpPoster::HttpPoster(const SinkSettings& settings, std::string url)
    : impl_(std::make_unique<Impl>(settings, std::move(url))) {}
HttpPoster::~HttpPoster() = default;

HttpAnswer HttpPoster::post(const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body) {
  return impl_->post(headers, body);
}

Delivery deliveryOf(const HttpAnswer& answer) {
  Delivery delivery;
  if (answer.status >= 200 && answer.status < 300) {
    delivery.result = Delivery::Result::kSent;
    delivery.reasonLabel.clear();
    return delivery;
  }
  if (answer.status == 0) {
    delivery.reason = answer.error;
    delivery.reasonLabel = "unreachable";
    return delivery;
  }
  std::string said = answer.body.substr(0, 200);
  for (char& c : said) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  delivery.reason = "HTTP " + std::to_string(answer.status) + (said.empty() ? "" : ": " + said);
  switch (answer.status) {
    case 400:
    case 413:
    case 415:
    case 422:
      delivery.result = Delivery::Result::kRejected;
      delivery.reasonLabel = "rejected";
      break;
    case 401:
    case 403:
      delivery.reason += " (check the sink's credentials)";
      delivery.reasonLabel = "unauthorized";
      break;
    default:
      delivery.reasonLabel = answer.status == 429   ? "throttled"
                             : answer.status == 404 ? "not_found"
                             : answer.status >= 500 ? "server_error"
                                                    : "http_error";
      break;
  }
  return delivery;
}

std::vector<std::pair<std::string, std::string>> readHeadersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the headers file " + path);
  std::vector<std::pair<std::string, std::string>> headers;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    auto colon = text.find(':');
    std::string name = colon == std::string::npos ? "" : trim(text.substr(0, colon));
    bool token = !name.empty();
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
        token = false;
      }
    }
    std::string value = colon == std::string::npos ? "" : trim(text.substr(colon + 1));
    if (!token || value.find_first_of("\r\n") != std::string::npos) {
      // The line may hold a secret: say where, not what.
      throw std::runtime_error("the headers file " + path + ", line " + std::to_string(number) +
                               ", is not \"Name: value\"");
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  return headers;
}

}  // namespace podmortem::controller
