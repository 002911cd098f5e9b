#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "podmortem/core/config.h"

namespace podmortem::webhooks {

// The top-level listen keys and threads: where the two HTTP servers serve.
struct ServerSettings {
  std::string listen = "0.0.0.0:8443";
  std::string metricsListen = "0.0.0.0:9090";
  uint32_t threads = 0;  // 0: one event loop per core

  static void bind(core::SectionBinder<ServerSettings>& keys);
  core::Status validate() const { return {}; }
};

// tls.*: the webhook server's certificate, and the client CA of mTLS on /audit.
struct TlsSettings {
  std::string certFile;  // empty: a self-signed CA and serving cert are made in stateDir
  std::string keyFile;
  std::string clientCAFile;           // CA that signs client certificates (mTLS on /audit)
  std::vector<std::string> dnsNames;  // extra SANs for the generated serving certificate
  std::chrono::milliseconds reloadInterval{std::chrono::seconds(2)};
  // In a cluster: keep the CA and serving certificate in a Secret shared by the replicas
  // (created when missing, renewed before expiry) and write the CA into the webhook
  // configuration's caBundle.
  bool manageSecret = false;
  std::string secretName = "podmortem-webhook-tls";
  std::string webhookConfiguration = "podmortem";  // ValidatingWebhookConfiguration name

  static void bind(core::SectionBinder<TlsSettings>& keys);
  core::Status validate() const;  // certFile and keyFile together; not with manageSecret
};

// limits.*: what one client may take of the servers.
struct LimitsSettings {
  uint64_t maxBodyBytes = 12 * 1024 * 1024;  // the API server's 10 MiB audit batch plus headroom
  uint32_t maxConnections = 1024;
  uint32_t maxConnectionsPerAddress = 512;  // one client cannot take every slot
  std::chrono::milliseconds readTimeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(90)};
  std::chrono::milliseconds shutdownTimeout{std::chrono::seconds(10)};

  static void bind(core::SectionBinder<LimitsSettings>& keys);
  core::Status validate() const { return {}; }
};

// Who may POST audit events. Unset: the /audit endpoint refuses everyone (403) until an
// authentication mode is chosen; `none` must be chosen explicitly.
enum class AuditAuth { kDisabled, kMtls, kToken, kNone };

// audit.* of the ingest endpoint: who may post, and how much may wait.
struct AuditIngestSettings {
  AuditAuth auth = AuditAuth::kDisabled;
  std::string tokenFile;  // auth token: made (random, 0600) when missing
  uint64_t maxEventBytes = 256 * 1024;
  uint32_t queueBatches = 64;                 // batches waiting to be indexed; more get 429
  uint64_t queueBytes = uint64_t{256} << 20;  // and their bytes at most
  // Admission requests keep coming but no audit event for this long: audit logging looks off
  // (the /readyz detail says so; the PodmortemAuditSilent alert uses the same 5 minutes).
  std::chrono::milliseconds silentAfter{std::chrono::minutes(5)};

  static void bind(core::SectionBinder<AuditIngestSettings>& keys);
  core::Status validate() const;  // token needs tokenFile
};

}  // namespace podmortem::webhooks
