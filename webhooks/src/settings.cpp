#include "podmortem/webhooks/settings.h"

namespace podmortem::webhooks {

namespace {
core::Error invalid(std::string message) {
  return core::makeError(core::ErrorCode::kInvalidArgument, std::move(message));
}
}  // namespace

void ServerSettings::bind(core::SectionBinder<ServerSettings>& keys) {
  keys.address("listen", &ServerSettings::listen, "address of the HTTPS webhook server");
  keys.address("metricsListen", &ServerSettings::metricsListen,
               "address of the plain-HTTP /metrics endpoint");
  keys.integer("threads", &ServerSettings::threads, 0, 256, "event-loop threads; 0: one per core");
}

void TlsSettings::bind(core::SectionBinder<TlsSettings>& keys) {
  keys.path("certFile", &TlsSettings::certFile, "serving certificate (PEM)")
      .whenUnset("a self-signed CA and certificate are generated in stateDir");
  keys.path("keyFile", &TlsSettings::keyFile, "private key of the serving certificate (PEM)");
  keys.path("clientCAFile", &TlsSettings::clientCAFile,
            "CA bundle (PEM) that client certificates are verified against");
  keys.list("dnsNames", &TlsSettings::dnsNames,
            "extra DNS names for the generated serving certificate (list)");
  keys.duration("reloadInterval", &TlsSettings::reloadInterval,
                "how often certificate files are checked for changes");
  keys.flag("manageSecret", &TlsSettings::manageSecret,
            "in a cluster: keep the CA and serving certificate in tls.secretName, write the CA "
            "into the webhook configuration, renew before expiry");
  keys.text("secretName", &TlsSettings::secretName,
            "Secret holding the webhook CA and certificate", true);
  keys.text("webhookConfiguration", &TlsSettings::webhookConfiguration,
            "ValidatingWebhookConfiguration whose caBundle is kept current; empty: none");
}

core::Status TlsSettings::validate() const {
  if (certFile.empty() != keyFile.empty()) {
    return invalid("tls.certFile and tls.keyFile must be set together");
  }
  if (manageSecret && !certFile.empty()) {
    return invalid("tls.manageSecret and tls.certFile cannot both be set");
  }
  return {};
}

void LimitsSettings::bind(core::SectionBinder<LimitsSettings>& keys) {
  keys.integer("maxBodyBytes", &LimitsSettings::maxBodyBytes, 1024, uint64_t{1} << 32,
               "largest request body accepted, in bytes");
  keys.integer("maxConnections", &LimitsSettings::maxConnections, 1, 1'000'000,
               "connections open at once; when full, a new connection replaces the oldest one "
               "that has not sent a whole request, then the oldest idle one");
  keys.integer("maxConnectionsPerAddress", &LimitsSettings::maxConnectionsPerAddress, 0, 1'000'000,
               "connections one client address may hold; 0: no cap");
  keys.duration("readTimeout", &LimitsSettings::readTimeout,
                "time allowed for a TLS handshake or a whole request to arrive");
  keys.duration("idleTimeout", &LimitsSettings::idleTimeout,
                "keep-alive connections idle longer are closed");
  keys.duration("shutdownTimeout", &LimitsSettings::shutdownTimeout,
                "on SIGTERM, how long in-flight requests may take to finish");
}

void AuditIngestSettings::bind(core::SectionBinder<AuditIngestSettings>& keys) {
  keys.choice("auth", &AuditIngestSettings::auth,
              {{"disabled", AuditAuth::kDisabled},
               {"mtls", AuditAuth::kMtls},
               {"token", AuditAuth::kToken},
               {"none", AuditAuth::kNone}},
              "who may POST /audit: mtls (client certificate from tls.clientCAFile), token "
              "(bearer token from audit.tokenFile), none (anyone), or disabled (everyone is "
              "refused)");
  keys.path("tokenFile", &AuditIngestSettings::tokenFile,
            "file holding the bearer token for audit.auth token (made with a random token if "
            "missing)");
  keys.integer("maxEventBytes", &AuditIngestSettings::maxEventBytes, 1024, uint64_t{64} << 20,
               "largest single audit event accepted, in bytes");
  keys.integer("queueBatches", &AuditIngestSettings::queueBatches, 1, 100'000,
               "audit batches waiting to be indexed; when full /audit answers 429");
  keys.integer("queueBytes", &AuditIngestSettings::queueBytes, 1 << 20, uint64_t{16} << 30,
               "bytes of audit batches waiting to be indexed; more get 429");
  keys.duration("silentAfter", &AuditIngestSettings::silentAfter,
                "no audit event for this long while admission requests come: /readyz warns "
                "that audit logging looks off");
}

core::Status AuditIngestSettings::validate() const {
  if (auth == AuditAuth::kToken && tokenFile.empty()) {
    return invalid("audit.auth is token but audit.tokenFile is not set");
  }
  return {};
}

}  // namespace podmortem::webhooks
