#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace podmortem::testing {

struct ClientResponse {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct ClientOptions {
  std::string caFile;          // trust only this CA (empty: plain HTTP)
  std::string clientCertFile;  // optional client certificate (mTLS)
  std::string clientKeyFile;
};

// A small keep-alive HTTP(S) client over Boost.Beast for driving the real server in tests.
// Reconnects when the server closed the previous connection.
class HttpClient {
 public:
  HttpClient(uint16_t port, ClientOptions options);
  ~HttpClient();

  ClientResponse request(const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& contentType = "application/json",
                         const std::map<std::string, std::string>& headers = {});
  ClientResponse get(const std::string& target) { return request("GET", target, "", ""); }
  ClientResponse post(const std::string& target, const std::string& body) {
    return request("POST", target, body);
  }
  // The PEM of the certificate the server presented on the current connection.
  std::string peerCertificatePem();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::testing
