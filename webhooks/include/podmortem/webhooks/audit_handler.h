#pragma once

#include <memory>
#include <optional>
#include <string>

#include "podmortem/policy/audit_journal.h"
#include "podmortem/webhooks/audit_metrics.h"
#include "podmortem/webhooks/http_types.h"
#include "podmortem/webhooks/settings.h"

namespace podmortem::webhooks {

// POST /audit: the API server's audit webhook backend. Authenticates the caller and hands the
// body to the journal: 200 once it is stored, 429 when the local queue is full, 503 when the
// shared stream cannot store it; both with Retry-After, so the API server keeps the batch and
// sends it again instead of losing events. Nothing is answered 200 that is not stored.
class AuditHandler {
 public:
  struct Options {
    AuditAuth auth = AuditAuth::kDisabled;
    std::string token;  // for kToken
    size_t maxEventBytes = 256 * 1024;  // when a batch is split for the journal
  };

  AuditHandler(Options options, policy::AuditJournal& journal, AuditMetrics& metrics);
  ~AuditHandler();

  void handle(HttpRequest& request, Respond respond);
  // The 401/403 for a caller that may not post, decided from the headers alone (before the
  // server reads the body); nullopt when it may. handle() checks the same.
  std::optional<HttpResponse> refuse(const HttpRequest& request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the bearer token for audit.auth token, making the file with a random token (0600) when
// it does not exist. Throws std::runtime_error naming the file.
std::string loadOrCreateAuditToken(const std::string& tokenFile);

}  // namespace podmortem::webhooks
