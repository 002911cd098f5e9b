#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>
#include <string_view>

#include "podmortem/core/result.h"

namespace podmortem::kube {

// One call to the Kubernetes API.
struct Request {
  std::string verb = "get";  // Kubernetes verb, for metrics and logs: get, list, watch, create,
                             // patch, update, delete
  std::string method = "GET";
  std::string path;       // absolute path with an encoded query: /api/v1/namespaces/a/pods/b
  std::string resource;   // for metrics: "pods", "pods/log", "forensicpolicies", ...
  std::string body;
  std::string contentType = "application/json";
  // More headers (X-Podmortem-Token through the pod proxy); never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  size_t maxBodyBytes = size_t{32} << 20;  // a longer answer is cut and reported as an error
};

// The answer, or why there was none. Non-2xx answers are not errors of the transport: they
// carry the API server's Status object in `body`.
struct Response {
  int status = 0;     // HTTP status; 0 when no answer came (connect, TLS, timeout, cancelled)
  std::string body;   // for stream(): empty on success, the Status object otherwise
  std::string error;  // transport problem; empty when the server answered
  bool truncated = false;  // the body reached maxBodyBytes

  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // Status.reason ("NotFound", "Expired", ...) when the body is a Status object.
  std::string reason() const;
  // One line for logs and manifests: "404 NotFound: pods \"web\" not found" or the transport
  // error. Never contains request headers (tokens).
  std::string describe() const;
  // This answer as an error of the boundary that asked: "<action>: <describe()>", with the code
  // its status means (403 kPermissionDenied, 404 kNotFound, no answer or 5xx kUnavailable, ...).
  core::Error asError(std::string_view action) const;
};

// The Kubernetes API as podmortem uses it. Implementations are thread-safe. Calls block the
// calling thread, which must be one of podmortem's own (capture workers, informers), never a
// thread of the HTTP library's pool.
class Client {
 public:
  virtual ~Client() = default;

  virtual Response send(const Request& request) = 0;

  // A streaming GET (watch): `onLine` receives each newline-terminated line without the
  // newline, as it arrives, and returns false to end the stream. Returns when the server ends
  // the stream, on a transport error, when onLine says stop, or soon after `stop` is requested.
  virtual Response stream(const Request& request,
                              const std::function<bool(std::string_view line)>& onLine,
                              std::stop_token stop) = 0;
};

// Percent-encodes a query value ("involvedObject.uid=..." for a fieldSelector).
std::string encodeQueryValue(std::string_view value);

}  // namespace podmortem::kube
