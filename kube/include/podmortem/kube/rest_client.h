#pragma once

#include <chrono>
#include <memory>

#include "podmortem/kube/client.h"
#include "podmortem/kube/connection.h"
#include "podmortem/kube/metrics.h"

namespace podmortem::kube {

struct RestClientOptions {
  double qps = 20;    // client-side rate limit, shared by every call
  double burst = 40;
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(10)};
  // The idle timeout of streams: longer than any watch's timeoutSeconds, or the HTTP library
  // cuts a quiet watch.
  std::chrono::milliseconds streamIdleTimeout{std::chrono::minutes(10)};  // watches: 5 min + 25% jitter
};

// Sizes the HTTP library's shared thread pool. Call once, before the first client is made
// (later calls do nothing); without it the library starts 40 threads.
void initializeThreadPool(size_t threads);

// The Client on cpprestsdk's http_client: trusts only the connection's CA (the system store
// is replaced), follows no redirects (they would carry the token to another host), adds the
// bearer token per request (so a rotated token is used at once), rate limited, counted in
// `metrics` (may be null).
std::unique_ptr<Client> makeRestClient(Connection connection,
                                               RestClientOptions options,
                                               Metrics* metrics);

}  // namespace podmortem::kube
