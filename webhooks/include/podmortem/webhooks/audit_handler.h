#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "podmortem/webhooks/settings.h"
#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/webhooks/audit_metrics.h"
#include "podmortem/webhooks/http_types.h"

namespace podmortem::webhooks {

// POST /audit: the API server's audit webhook backend. Authenticates the caller, hands the body
// to a bounded queue (429 when full, so the API server retries instead of losing events), and
// decodes and indexes it on a worker thread. Each event new to the window is passed on to
// `onEvent` (audit triggers), on that worker.
class AuditHandler {
 public:
  struct Options {
    AuditAuth auth = AuditAuth::kDisabled;
    std::string token;  // for kToken
    size_t queueBatches = 64;
    // Bytes of queued bodies at most; a batch that would pass it gets 429 (one batch is always
    // taken, however large, so a maximum-size batch is never refused forever).
    size_t queueBytes = size_t{256} << 20;
    size_t maxEventBytes = 256 * 1024;
  };
  using EventSink = std::function<void(const policy::AuditEvent&)>;

  AuditHandler(Options options, policy::CorrelationWindow& window, AuditMetrics& metrics,
               EventSink onEvent);
  ~AuditHandler();  // indexes what is queued, then stops the worker

  void handle(HttpRequest& request, Respond respond);
  // The 401/403 for a caller that may not post, decided from the headers alone (before the
  // server reads the body); nullopt when it may. handle() checks the same.
  std::optional<HttpResponse> refuse(const HttpRequest& request);

  // Batches decoded and indexed since start (tests wait on it instead of sleeping).
  uint64_t batchesIndexed() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the bearer token for audit.auth token, making the file with a random token (0600) when
// it does not exist. Throws std::runtime_error naming the file.
std::string loadOrCreateAuditToken(const std::string& tokenFile);

}  // namespace podmortem::webhooks
