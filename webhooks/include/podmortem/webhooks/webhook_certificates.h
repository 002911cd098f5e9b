#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "podmortem/core/periodic_worker.h"
#include "podmortem/core/result.h"
#include "podmortem/kube/client.h"
#include "podmortem/webhooks/self_signed.h"

namespace podmortem::webhooks {

// The webhook's serving certificate without extra tools: a CA and serving certificate kept in
// a Secret in podmortem's namespace (created when missing, shared by every replica, renewed 30
// days before expiry by whichever replica notices first), written to local files the TLS
// server reloads, and the CA written into the ValidatingWebhookConfiguration's caBundle so the
// API server trusts it. Checked again every `resyncInterval`: another replica's renewal, or a
// caBundle reset by `kubectl apply`, is picked up without a restart.
class WebhookCertificates {
 public:
  struct Options {
    std::string namespaceName;
    std::string secretName = "podmortem-webhook-tls";
    std::string webhookConfiguration = "podmortem";  // empty: leave caBundle alone
    std::vector<std::string> dnsNames;               // SANs besides localhost and 127.0.0.1
    std::string dir;                                 // local copy: <dir>/tls/{ca,tls}.{crt,key}
    std::chrono::milliseconds resyncInterval{std::chrono::minutes(1)};
  };

  WebhookCertificates(kube::Client& client, Options options);
  ~WebhookCertificates();

  // One round: make the Secret and the local files agree (creating or renewing as needed) and
  // the caBundle current. On failure the files still hold a usable, locally generated
  // certificate.
  core::Status sync();
  // The files the TLS server serves from (valid after the first sync, even a failed one).
  GeneratedCertificate files() const;

  void start();  // sync every resyncInterval on a thread
  void stop();

 private:
  core::Status syncSecret(int attempt = 0);
  core::Status syncCaBundle();

  kube::Client& client_;
  const Options options_;
  core::PeriodicWorker worker_;  // last: its thread uses everything above
};

}  // namespace podmortem::webhooks
