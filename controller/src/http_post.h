#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "finding_sinks.h"

namespace podmortem::controller {

// One HTTPS (or HTTP) POST for the http and splunk-hec sinks, over cpprestsdk (the project's HTTP
// client): TLS 1.2 or later, the sink's CA and client certificate, no redirects.
struct HttpAnswer {
  int status = 0;      // 0: no answer (could not connect, TLS failed, timed out)
  std::string body;    // the first KiB of it
  std::string error;   // why there is no answer
};

class HttpPoster {
 public:
  explicit HttpPoster(const SinkSettings& settings, std::string url);
  ~HttpPoster();
  HttpAnswer post(const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// What an HTTP answer means for a finding: 2xx sent; a finding the receiver calls malformed
// (400, 413, 415, 422) rejected; everything else (down, 401/403 until the credentials are fixed,
// 404 until the URL is, 429, 5xx) retried.
Delivery deliveryOf(const HttpAnswer& answer);

// "Name: value" lines of a headers file (a mounted Secret); blank lines and # comments skipped.
// Throws std::runtime_error naming the file (never a value) when it cannot be read or a line is
// not a header.
std::vector<std::pair<std::string, std::string>> readHeadersFile(const std::string& path);

}  // namespace podmortem::controller
