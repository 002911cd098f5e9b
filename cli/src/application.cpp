#include "podmortem/cli/application.h"

#include <nlohmann/json.hpp>
#include <prometheus/gauge.h>
#include <filesystem>
#include <thread>

#include "podmortem/cli/application_hooks.h"
#include "podmortem/controller/audit_trigger_runner.h"
#include "podmortem/controller/capture_service.h"
#include "podmortem/evidence/store.h"
#include "podmortem/kube/metrics.h"
#include "podmortem/controller/kubernetes.h"
#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/core/log.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/core/version.h"
#include "podmortem/policy/directory_watcher.h"
#include "podmortem/policy/policy_store.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/webhooks/admission_handler.h"
#include "podmortem/webhooks/audit_handler.h"
#include "podmortem/webhooks/certificate_info.h"
#include "podmortem/webhooks/cpu_check.h"
#include "podmortem/webhooks/http_metrics.h"
#include "podmortem/webhooks/http_server.h"
#include "podmortem/webhooks/metrics_registry.h"
#include "podmortem/webhooks/self_signed.h"
#include "podmortem/webhooks/webhook_certificates.h"

namespace podmortem::cli {

namespace log = core::log;
using webhooks::HttpRequest;
using webhooks::HttpResponse;
using webhooks::Respond;
using webhooks::Route;

class Application::Impl {
 public:
  Impl(core::Config config, const ApplicationHooks& hooks)
      : config_(std::move(config)),
        hooks_(hooks),
        httpMetrics_(metrics_.registry()),
        admissionMetrics_(metrics_.registry()),
        auditMetrics_(metrics_.registry()),
        snapshotMetrics_(metrics_.registry()),
        kubeMetrics_(metrics_.registry()),
        clusterMetrics_(metrics_.registry()),
        podCache_(10'000) {}

  void start() {
    if (auto reason = webhooks::unsupportedCpuReason(); !reason.empty()) {
      throw std::runtime_error(reason);
    }
    startPolicies();
    connectKubernetes();
    startAuditWindow();
    startCapture();
    startAuditIngest();
    webhooks::TlsFiles tls{config_.tls.certFile, config_.tls.keyFile, config_.tls.clientCAFile,
                           config_.tls.reloadInterval};
    if (tls.certFile.empty() != tls.keyFile.empty()) {
      throw std::runtime_error("tls.certFile and tls.keyFile must be set together");
    }
    if (config_.tls.manageSecret) {
      auto files = startManagedCertificates();
      tls.certFile = files.certFile;
      tls.keyFile = files.keyFile;
      caFile_ = files.caFile;
    } else if (tls.certFile.empty()) {
      auto generated = webhooks::ensureSelfSignedCertificate(config_.stateDir, config_.tls.dnsNames);
      tls.certFile = generated.certFile;
      tls.keyFile = generated.keyFile;
      caFile_ = generated.caFile;
      log::info(generated.created ? "generated a self-signed CA and serving certificate"
                                  : "using the self-signed certificate from an earlier start",
                {{"caFile", caFile_}, {"hint", "curl --cacert " + caFile_}});
    } else {
      caFile_ = tls.certFile;
    }

    servingCertFile_ = tls.certFile;
    startHostGauges();

    auto webhookAddress = core::parseHostPort("listen", config_.listen);
    webhooks::ServerOptions webhookOptions;
    webhookOptions.name = "webhook";
    webhookOptions.host = webhookAddress.host;
    webhookOptions.port = webhookAddress.port;
    webhookOptions.tls = tls;
    applyLimits(webhookOptions);
    webhookServer_ = std::make_unique<webhooks::HttpServer>(webhookOptions, webhookRoutes(),
                                                            httpMetrics_);

    auto metricsAddress = core::parseHostPort("metricsListen", config_.metricsListen);
    webhooks::ServerOptions metricsOptions;
    metricsOptions.name = "metrics";
    metricsOptions.host = metricsAddress.host;
    metricsOptions.port = metricsAddress.port;
    metricsOptions.useTls = false;
    applyLimits(metricsOptions);
    metricsOptions.threads = 1;
    metricsServer_ = std::make_unique<webhooks::HttpServer>(metricsOptions, metricsRoutes(),
                                                            httpMetrics_);

    webhookServer_->start();
    metricsServer_->start();
    if (kubernetes_) kubernetes_->start();
    ready_ = true;
    log::info("podmortem is serving",
              {{"version", std::string(core::version())},
               {"webhook", webhookAddress.host + ":" + std::to_string(webhookServer_->port())},
               {"metrics", metricsAddress.host + ":" + std::to_string(metricsServer_->port())}});
  }

  // Stops in dependency order: no new requests, then the audit worker (it may start captures),
  // then the captures (their callbacks answer into the stopped server, harmlessly), and only
  // then the admission handler whose timers those callbacks hold.
  void stop() {
    ready_ = false;
    if (webhookServer_) webhookServer_->shutdown(config_.limits.shutdownTimeout);
    if (metricsServer_) metricsServer_->shutdown(std::chrono::milliseconds(500));
    if (policyWatcher_) policyWatcher_->stop();
    if (windowExpiry_) windowExpiry_->stop();
    auditHandler_.reset();
    auditRunner_.reset();
    snapshots_.reset();
    admission_.reset();
    capture_.reset();
    // Last: the live collectors and the EvidenceSnapshot recorder use its client.
    if (certificates_) certificates_->stop();
    if (kubernetes_) kubernetes_->stop();
  }

  uint16_t webhookPort() const { return webhookServer_ ? webhookServer_->port() : 0; }
  uint16_t metricsPort() const { return metricsServer_ ? metricsServer_->port() : 0; }
  const std::string& caFile() const { return caFile_; }

 private:
  void applyLimits(webhooks::ServerOptions& options) const {
    options.maxBodyBytes = config_.limits.maxBodyBytes;
    options.maxConnections = config_.limits.maxConnections;
    options.readTimeout = config_.limits.readTimeout;
    options.idleTimeout = config_.limits.idleTimeout;
    options.threads = config_.threads != 0 ? config_.threads
                                           : std::max(1u, std::thread::hardware_concurrency());
  }

  HttpResponse jsonOk(const nlohmann::json& body) const {
    HttpResponse response;
    response.body = body.dump();
    return response;
  }

  std::vector<Route> healthRoutes() {
    return {
        {"GET", "/healthz", "healthz", false,
         [this](HttpRequest&, Respond respond) { respond(jsonOk({{"status", "ok"}})); }},
        {"GET", "/readyz", "readyz", false,
         [this](HttpRequest&, Respond respond) {
           // Not ready until the ForensicPolicies were listed: a replica without them would let
           // protected pods go uncaptured.
           bool policiesLoaded = !kubernetes_ || kubernetes_->policiesSynced();
           bool ready = ready_ && policiesLoaded;
           nlohmann::json body = {{"status", ready ? "ready" : "not ready"}};
           if (!policiesLoaded) body["reason"] = "ForensicPolicies not listed from the API server yet";
           if (!auditWarning_.empty()) body["warnings"] = {auditWarning_};
           HttpResponse response = jsonOk(body);
           if (!ready) response.status = 503;
           respond(std::move(response));
         }},
    };
  }

  void startPolicies() {
    metrics_.observe("podmortem_policies", "ForensicPolicies loaded, by state (valid, invalid).",
                     prometheus::MetricType::Gauge, [this]() -> std::vector<webhooks::ObservedSample> {
                       return {{{{"state", "valid"}}, static_cast<double>(policies_.validCount())},
                               {{{"state", "invalid"}},
                                static_cast<double>(policies_.invalidCount())}};
                     });
    if (config_.policiesDir.empty()) {
      log::warn("no policies.dir configured: no pod is protected");
      return;
    }
    policyWatcher_ = std::make_unique<policy::PolicyDirectoryWatcher>(
        config_.policiesDir, policies_, config_.policiesReloadInterval);
    policyWatcher_->pollOnce();
    policyWatcher_->start();
  }

  // tls.manageSecret: the certificate lives in a Secret shared by the replicas; this one keeps
  // a local copy the TLS server reloads.
  webhooks::GeneratedCertificate startManagedCertificates() {
    if (!kubernetes_) {
      throw std::runtime_error("tls.manageSecret needs a Kubernetes API; kubernetes.mode found none");
    }
    if (!config_.tls.certFile.empty()) {
      throw std::runtime_error("tls.manageSecret and tls.certFile cannot both be set");
    }
    webhooks::WebhookCertificates::Options options;
    options.namespaceName = kubernetes_->namespaceName();
    options.secretName = config_.tls.secretName;
    options.webhookConfiguration = config_.tls.webhookConfiguration;
    options.dnsNames = config_.tls.dnsNames;
    options.dir = (std::filesystem::path(config_.stateDir) / "webhook").string();
    certificates_ = std::make_unique<webhooks::WebhookCertificates>(kubernetes_->client(), options);
    auto synced = certificates_->sync();
    if (synced.ok()) {
      log::info("webhook certificate is in place", {{"secret", options.secretName}});
    } else {
      // Serving a local certificate the API server does not trust yet beats not serving: the
      // background sync keeps trying, and failurePolicy Ignore covers the gap.
      log::warn("webhook certificate Secret not in sync yet; retrying in the background",
                {{"error", synced.error().message}});
    }
    certificates_->start();
    return certificates_->files();
  }

  // Gauges read from the host at each scrape: what the alerts on expiring certificates and a
  // filling evidence volume need.
  void startHostGauges() {
    using Samples = std::vector<webhooks::ObservedSample>;
    metrics_.observe("podmortem_tls_certificate_expiry_timestamp_seconds",
                     "When the serving certificate expires, in seconds since the epoch.",
                     prometheus::MetricType::Gauge, [this]() -> Samples {
                       auto notAfter = webhooks::certificateNotAfter(servingCertFile_);
                       if (!notAfter) return {};
                       return {{{}, static_cast<double>(
                                        std::chrono::system_clock::to_time_t(*notAfter))}};
                     });
    auto space = [this] {
      std::error_code ec;
      auto info = std::filesystem::space(config_.evidenceDir, ec);
      return ec ? std::optional<std::filesystem::space_info>() : info;
    };
    metrics_.observe("podmortem_evidence_volume_size_bytes",
                     "Size of the filesystem holding evidence.dir.", prometheus::MetricType::Gauge,
                     [space]() -> Samples {
                       auto info = space();
                       if (!info) return {};
                       return {{{}, static_cast<double>(info->capacity)}};
                     });
    metrics_.observe("podmortem_evidence_volume_available_bytes",
                     "Bytes still free for podmortem on the filesystem holding evidence.dir.",
                     prometheus::MetricType::Gauge, [space]() -> Samples {
                       auto info = space();
                       if (!info) return {};
                       return {{{}, static_cast<double>(info->available)}};
                     });
  }

  void connectKubernetes() {
    auto connection = controller::Kubernetes::resolveConnection(config_);
    if (!connection) {
      log::info("no Kubernetes API: local mode (policies from files, local collectors only)");
      return;
    }
    kubernetes_ = std::make_unique<controller::Kubernetes>(config_, std::move(*connection),
                                                           kubeMetrics_, clusterMetrics_, policies_);
  }

  std::string evidenceDir() const {
    if (!config_.evidencePerReplica) return config_.evidenceDir;
    // Replicas sharing one volume each keep their own folder and ledger: two writers never
    // append to the same chain.
    return (std::filesystem::path(config_.evidenceDir) / controller::replicaIdentity(config_)).string();
  }

  void startCapture() {
    std::unique_ptr<evidence::Signer> signer;
    if (!config_.signingKeyFile.empty()) signer = evidence::loadSigner(config_.signingKeyFile);
    evidence_ = std::make_unique<evidence::FileStore>(evidenceDir(), std::move(signer));
    auto collectors = controller::CollectorRegistry::localDefaults(window_, config_.audit.window);
    if (kubernetes_) kubernetes_->addCollectors(collectors);
    for (const auto& collector : hooks_.collectors) collectors.add(collector);
    controller::SnapshotManager::Options options;
    options.workers = config_.snapshotWorkers;
    if (kubernetes_) options.observer = kubernetes_->recorder();
    snapshots_ = std::make_unique<controller::SnapshotManager>(*evidence_, std::move(collectors),
                                                               snapshotMetrics_, options);
    capture_ = std::make_unique<controller::CaptureService>(*snapshots_, podCache_);
    webhooks::AdmissionHandler::Options admissionOptions;
    admissionOptions.correlation = window_.get();
    if (kubernetes_) {
      admissionOptions.namespaceLabels = [this](std::string_view ns) {
        return kubernetes_->namespaceLabels(ns);
      };
      admissionOptions.onMatch = [this](const std::string& policy, bool snapshot) {
        kubernetes_->activity().matched(policy, snapshot);
      };
    }
    admission_ = std::make_unique<webhooks::AdmissionHandler>(
        policies_, *capture_, admissionMetrics_, std::move(admissionOptions));
  }

  void startAuditWindow() {
    policy::CorrelationWindow::Options options;
    options.window = config_.audit.window;
    options.maxEvents = config_.audit.maxEvents;
    options.spoolDir = config_.audit.spoolDir.empty()
                           ? (std::filesystem::path(config_.stateDir) / "audit-spool").string()
                           : config_.audit.spoolDir;
    window_ = std::make_shared<policy::CorrelationWindow>(options);
    // Events age out even when no new ones arrive to push them out.
    windowExpiry_ = std::make_unique<core::PeriodicWorker>(
        "audit window expiry", std::chrono::seconds(10),
        [window = window_](std::stop_token) { window->expire(std::chrono::system_clock::now()); });
    windowExpiry_->start();
    using Samples = std::vector<webhooks::ObservedSample>;
    metrics_.observe("podmortem_audit_index_events", "Audit events in the correlation window.",
                     prometheus::MetricType::Gauge, [window = window_]() -> Samples {
                       return {{{}, static_cast<double>(window->size())}};
                     });
    metrics_.observe("podmortem_audit_index_evictions_total",
                     "Audit events dropped from the correlation window for age or for "
                     "audit.maxEvents.",
                     prometheus::MetricType::Counter, [window = window_]() -> Samples {
                       return {{{}, static_cast<double>(window->evictions())}};
                     });
  }

  void startAuditIngest() {
    webhooks::AuditHandler::Options options;
    options.auth = config_.audit.auth;
    options.queueBatches = config_.audit.queueBatches;
    options.queueBytes = config_.audit.queueBytes;
    options.maxEventBytes = config_.audit.maxEventBytes;
    switch (config_.audit.auth) {
      case core::AuditAuth::kDisabled:
        log::info("audit ingest is off until audit.auth is set (mtls, token or none)");
        break;
      case core::AuditAuth::kNone:
        auditWarning_ = "audit.auth is none: anyone who can reach /audit can post audit events";
        log::warn(auditWarning_);
        break;
      case core::AuditAuth::kMtls:
        if (config_.tls.clientCAFile.empty()) {
          throw std::runtime_error("audit.auth is mtls but tls.clientCAFile is not set");
        }
        break;
      case core::AuditAuth::kToken:
        if (config_.audit.tokenFile.empty()) {
          throw std::runtime_error("audit.auth is token but audit.tokenFile is not set");
        }
        options.token = webhooks::loadOrCreateAuditToken(config_.audit.tokenFile);
        break;
    }
    controller::AuditTriggerRunner::Hooks runnerHooks;
    if (kubernetes_) {
      runnerHooks.lookupPod = [this](const std::string& ns, const std::string& name) {
        return kubernetes_->lookupPod(ns, name);
      };
      runnerHooks.namespaceLabels = [this](std::string_view ns) {
        return kubernetes_->namespaceLabels(ns);
      };
      runnerHooks.onMatch = [this](const std::string& policy, bool snapshot) {
        kubernetes_->activity().matched(policy, snapshot);
      };
    }
    auditRunner_ = std::make_unique<controller::AuditTriggerRunner>(
        policies_, *snapshots_, podCache_, *window_, std::move(runnerHooks));
    auditHandler_ = std::make_unique<webhooks::AuditHandler>(
        options, *window_, auditMetrics_,
        [this](const policy::AuditEvent& event) {
          if (hooks_.auditEventObserver) hooks_.auditEventObserver(event);
          auditRunner_->onEvent(event);
        });
  }

  std::vector<Route> webhookRoutes() {
    auto routes = healthRoutes();
    routes.push_back({"POST", "/validate", "validate", true,
                      [this](HttpRequest& request, Respond respond) {
                        admission_->handle(request, std::move(respond));
                      }});
    routes.push_back({"POST", "/audit", "audit", true,
                      [this](HttpRequest& request, Respond respond) {
                        auditHandler_->handle(request, std::move(respond));
                      }});
    return routes;
  }

  std::vector<Route> metricsRoutes() {
    auto routes = healthRoutes();
    routes.push_back({"GET", "/metrics", "metrics", false, [this](HttpRequest&, Respond respond) {
                        HttpResponse response;
                        response.contentType = "text/plain; version=0.0.4; charset=utf-8";
                        response.body = metrics_.render();
                        respond(std::move(response));
                      }});
    return routes;
  }

  core::Config config_;
  ApplicationHooks hooks_;
  webhooks::MetricsRegistry metrics_;
  webhooks::HttpMetrics httpMetrics_;
  webhooks::AdmissionMetrics admissionMetrics_;
  webhooks::AuditMetrics auditMetrics_;
  controller::SnapshotMetrics snapshotMetrics_;
  kube::Metrics kubeMetrics_;
  controller::ClusterMetrics clusterMetrics_;
  policy::PolicyStore policies_;
  controller::PodCache podCache_;
  std::shared_ptr<policy::CorrelationWindow> window_;
  std::unique_ptr<core::PeriodicWorker> windowExpiry_;
  std::string auditWarning_;
  std::unique_ptr<policy::PolicyDirectoryWatcher> policyWatcher_;
  std::unique_ptr<controller::Kubernetes> kubernetes_;  // before everything that uses its client
  std::unique_ptr<webhooks::WebhookCertificates> certificates_;
  std::unique_ptr<evidence::FileStore> evidence_;
  std::unique_ptr<controller::SnapshotManager> snapshots_;
  std::unique_ptr<controller::CaptureService> capture_;
  std::unique_ptr<webhooks::AdmissionHandler> admission_;
  std::unique_ptr<controller::AuditTriggerRunner> auditRunner_;
  std::unique_ptr<webhooks::AuditHandler> auditHandler_;
  std::string caFile_;
  std::string servingCertFile_;
  std::atomic<bool> ready_{false};
  std::unique_ptr<webhooks::HttpServer> webhookServer_;
  std::unique_ptr<webhooks::HttpServer> metricsServer_;
};

Application::Application(core::Config config)
    : impl_(std::make_unique<Impl>(std::move(config), ApplicationHooks{})) {}

Application::Application(core::Config config, const ApplicationHooks& hooks)
    : impl_(std::make_unique<Impl>(std::move(config), hooks)) {}

Application::~Application() {
  if (impl_) impl_->stop();
}

void Application::start() { impl_->start(); }
void Application::stop() { impl_->stop(); }
uint16_t Application::webhookPort() const { return impl_->webhookPort(); }
uint16_t Application::metricsPort() const { return impl_->metricsPort(); }
const std::string& Application::caFile() const { return impl_->caFile(); }

}  // namespace podmortem::cli
