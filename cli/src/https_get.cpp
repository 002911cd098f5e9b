#include "https_get.h"

#include <cpprest/http_client.h>
#include <openssl/ssl.h>

namespace podmortem::cli {

namespace http = web::http;

core::Result<std::string> httpsGet(const std::string& url, const std::string& caFile,
                                   const std::vector<std::pair<std::string, std::string>>& headers) {
  try {
    http::client::http_client_config config;
    config.set_timeout(std::chrono::seconds(120));
    config.set_max_redirects(0);
    config.set_validate_certificates(true);
    config.set_ssl_context_callback([caFile](boost::asio::ssl::context& context) {
      SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
      if (!caFile.empty()) {
        SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());  // only this CA
        context.load_verify_file(caFile);
      }
    });
    web::uri target(url);
    http::client::http_client client(web::uri_builder().set_scheme(target.scheme()).set_host(target.host())
                                         .set_port(target.port()).to_uri(),
                                     config);
    http::http_request request(http::methods::GET);
    request.set_request_uri(web::uri_builder().set_path(target.path(), false).set_query(target.query(), false).to_uri());
    for (const auto& [name, value] : headers) request.headers().add(name, value);
    http::http_response answer = client.request(request).get();
    auto bytes = answer.extract_vector().get();
    std::string body(bytes.begin(), bytes.end());
    if (answer.status_code() < 200 || answer.status_code() >= 300) {
      core::ErrorCode code = answer.status_code() == 401   ? core::ErrorCode::kUnauthenticated
                             : answer.status_code() == 404 ? core::ErrorCode::kNotFound
                                                           : core::ErrorCode::kUnavailable;
      return core::makeError(code,
                             "GET " + target.path() + ": " + std::to_string(answer.status_code()) + " " +
                                 body.substr(0, 512));
    }
    return body;
  } catch (const std::exception& error) {
    return core::makeError(core::ErrorCode::kUnavailable, "GET " + url.substr(0, url.find('?')) + ": " + error.what());
  }
}

}  // namespace podmortem::cli
