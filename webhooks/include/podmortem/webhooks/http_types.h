#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podmortem::webhooks {

struct HttpRequest {
  std::string method;
  std::string path;   // without the query string: the API server appends "?timeout=10s"
  std::string query;  // after '?', undecoded
  std::string contentType;
  std::string authorization;
  std::string downloadToken;  // X-Podmortem-Token: an EvidenceDownload's token (GET /evidence/{id})
  std::string remoteAddress;
  bool clientCertificateVerified = false;  // a client certificate chained to tls.clientCAFile
  std::string clientCertificateSubject;
  // The body. Its capacity leaves at least simdjson's padding after size(), so it can be
  // parsed in place without a copy.
  std::string body;

  // Value of a query parameter, or empty when absent. Only for simple unescaped values.
  std::string_view queryParameter(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// A JSON error body: {"error": "..."}.
HttpResponse jsonError(unsigned status, std::string_view message);

// Completes a request. Must be called exactly once, from any thread; it may be called after the
// handler returned (held admission answers).
using Respond = std::function<void(HttpResponse)>;

struct Route {
  std::string method;       // "GET" or "POST"
  std::string path;         // exact path; with `prefix`, every longer path that starts with it
  std::string handlerName;  // the `handler` label of the HTTP metrics
  bool jsonBody = false;    // requires Content-Type application/json
  std::function<void(HttpRequest&, Respond)> handle;
  // Optional: looks at the request before its body is read (the body is empty here) and
  // returns an answer to refuse it with, so that nobody unauthenticated can make the server
  // read megabytes.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> checkHeaders;
  bool prefix = false;  // `path` is a prefix ("/evidence/"): the rest of the path is the handler's
};

}  // namespace podmortem::webhooks
