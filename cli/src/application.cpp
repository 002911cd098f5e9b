#include "podmortem/cli/application.h"

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "audit_coverage.h"
#include "observed_metrics.h"
#include "podmortem/cli/application_hooks.h"
#include "podmortem/controller/audit_addenda.h"
#include "podmortem/controller/audit_trigger_runner.h"
#include "podmortem/controller/capture_service.h"
#include "podmortem/controller/evidence_downloads.h"
#include "podmortem/controller/findings_export.h"
#include "podmortem/controller/kubernetes.h"
#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/core/log.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/core/version.h"
#include "podmortem/evidence/s3_mirror.h"
#include "podmortem/evidence/s3_uploads.h"
#include "podmortem/evidence/store.h"
#include "podmortem/kube/connection.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/directory_watcher.h"
#include "podmortem/policy/policy_store.h"
#include "podmortem/stream/shared_stream.h"
#include "podmortem/webhooks/admission_handler.h"
#include "podmortem/webhooks/audit_handler.h"
#include "podmortem/webhooks/audit_indexer.h"
#include "podmortem/webhooks/cpu_check.h"
#include "podmortem/webhooks/http_metrics.h"
#include "podmortem/webhooks/http_server.h"
#include "podmortem/webhooks/metrics_registry.h"
#include "serving_certificate.h"

namespace podmortem::cli {

namespace log = core::log;
using webhooks::HttpRequest;
using webhooks::HttpResponse;
using webhooks::Respond;
using webhooks::Route;

class Application::Impl {
 public:
  Impl(Config config, const ApplicationHooks& hooks)
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
    startStream();
    startCapture();
    startAuditIngest();
    startAdmission();
    serving_ = prepareServingCertificate(config_.tls, config_.runtime.stateDir,
                                         kubernetes_ ? &kubernetes_->client() : nullptr,
                                         kubernetes_ ? kubernetes_->namespaceName() : "");
    observeHost(metrics_, serving_.files.certFile, config_.evidence.dir);
    startServers();
    if (kubernetes_) kubernetes_->start();
    if (downloads_) downloads_->start();
    ready_ = true;
    auto address = [](const std::string& key, const std::string& listen, uint16_t port) {
      return core::parseHostPort(key, listen).host + ":" + std::to_string(port);
    };
    std::string download =
        downloadServer_ ? address("download.listen", config_.download.listen, downloadServer_->port()) : "off";
    log::info("podmortem is serving",
              {{"version", std::string(core::version())},
               {"webhook", address("listen", config_.server.listen, webhookServer_->port())},
               {"metrics", address("metricsListen", config_.server.metricsListen, metricsServer_->port())},
               {"download", download}});
  }

  // Stops in dependency order: no new requests, then the audit worker (it may start captures),
  // then the captures (their callbacks answer into the stopped server, harmlessly), and only
  // then the admission handler whose timers those callbacks hold.
  void stop() {
    ready_ = false;
    if (webhookServer_) webhookServer_->shutdown(config_.limits.shutdownTimeout);
    if (metricsServer_) metricsServer_->shutdown(std::chrono::milliseconds(500));
    if (downloadServer_) downloadServer_->shutdown(std::chrono::milliseconds(500));
    if (downloads_) downloads_->stop();
    if (policyWatcher_) policyWatcher_->stop();
    if (windowExpiry_) windowExpiry_->stop();
    // No more records from the stream, no more claims: followers still waiting answer now.
    if (stream_) stream_->stop();
    auditHandler_.reset();
    auditIndexer_.reset();  // indexes what is queued first
    journal_.reset();
    auditRunner_.reset();
    if (capture_) capture_->drain();  // claims being decided may still start captures
    snapshots_.reset();
    addenda_.reset();  // seals what is pending
    admission_.reset();
    capture_.reset();
    findings_.reset();  // after everything that makes findings: what is queued goes to the outbox
    uploads_.reset();   // after the last bundle was written; what is queued stays queued
    stream_.reset();
    // Last: the live collectors and the EvidenceSnapshot recorder use its client.
    if (serving_.managed) serving_.managed->stop();
    if (kubernetes_) kubernetes_->stop();
  }

  uint16_t webhookPort() const { return webhookServer_ ? webhookServer_->port() : 0; }
  uint16_t metricsPort() const { return metricsServer_ ? metricsServer_->port() : 0; }
  const std::string& caFile() const { return serving_.caFile; }

 private:
  webhooks::ServerOptions serverOptions(const std::string& name, const std::string& key,
                                        const std::string& listen) const {
    auto address = core::parseHostPort(key, listen);
    webhooks::ServerOptions options;
    options.name = name;
    options.host = address.host;
    options.port = address.port;
    options.maxBodyBytes = config_.limits.maxBodyBytes;
    options.maxConnections = config_.limits.maxConnections;
    options.maxConnectionsPerAddress = config_.limits.maxConnectionsPerAddress;
    options.readTimeout = config_.limits.readTimeout;
    options.idleTimeout = config_.limits.idleTimeout;
    options.threads = config_.server.threads != 0
                          ? config_.server.threads
                          : std::max(1u, std::thread::hardware_concurrency());
    return options;
  }

  void startServers() {
    auto webhookOptions = serverOptions("webhook", "listen", config_.server.listen);
    webhookOptions.tls = serving_.files;
    webhookServer_ = std::make_unique<webhooks::HttpServer>(webhookOptions, webhookRoutes(),
                                                            httpMetrics_);
    auto metricsOptions = serverOptions("metrics", "metricsListen", config_.server.metricsListen);
    metricsOptions.useTls = false;
    metricsOptions.threads = 1;
    metricsServer_ = std::make_unique<webhooks::HttpServer>(metricsOptions, metricsRoutes(),
                                                            httpMetrics_);
    webhookServer_->start();
    metricsServer_->start();
    startDownloads();
  }

  // kubectl podmortem get: EvidenceDownloads answered with a token for GET /evidence/{id} on a
  // port of its own (the serving certificate's), or with pre-signed S3 URLs. Needs the API.
  void startDownloads() {
    if (!kubernetes_ || config_.download.listen.empty()) return;
    auto options = serverOptions("download", "download.listen", config_.download.listen);
    options.tls = serving_.files;
    options.threads = 1;
    options.writeTimeout = config_.download.writeTimeout;
    std::vector<Route> routes;
    routes.push_back({"GET", "/evidence/", "evidence", false,
                      [this](HttpRequest& request, Respond respond) {
                        auto answer = downloads_->serve(request.path.substr(std::string("/evidence/").size()),
                                                        request.downloadToken);
                        HttpResponse response;
                        response.status = answer.status;
                        response.body = std::move(answer.body);
                        response.contentType = answer.contentType;
                        response.headers.emplace_back("Cache-Control", "no-store");
                        if (answer.status == 200) {
                          response.headers.emplace_back("Content-Disposition",
                                                        "attachment; filename=\"" + answer.snapshotId + ".tar\"");
                        }
                        respond(std::move(response));
                      },
                      nullptr, true});
    controller::EvidenceDownloads::Options downloads;
    downloads.namespaceName = kubernetes_->namespaceName();
    downloads.replica = kubernetes_->identity();
    downloads.evidenceDir = config_.evidence.dir;
    downloads.tokenTtl = config_.download.tokenTtl;
    downloads.maxBundleBytes = config_.download.maxBundleBytes;
    if (config_.evidence.store == evidence::StoreSettings::Kind::kS3) {
      downloads.presign = [s3 = config_.s3](const std::string& url, const std::vector<std::string>& paths,
                                            std::chrono::seconds ttl) {
        return evidence::presignBundle(s3, url, paths, ttl);
      };
    }
    // Before the server: its handler uses it from the first request on.
    downloads_ = std::make_unique<controller::EvidenceDownloads>(kubernetes_->client(), std::move(downloads),
                                                                 clusterMetrics_, &kubeMetrics_);
    downloadServer_ = std::make_unique<webhooks::HttpServer>(options, std::move(routes), httpMetrics_);
    downloadServer_->start();
    downloads_->setDownloadPort(downloadServer_->port());
  }

  static HttpResponse jsonOk(const nlohmann::json& body) {
    HttpResponse response;
    response.body = body.dump();
    return response;
  }

  std::vector<Route> healthRoutes() {
    return {
        {"GET", "/healthz", "healthz", false,
         [](HttpRequest&, Respond respond) { respond(jsonOk({{"status", "ok"}})); }},
        {"GET", "/readyz", "readyz", false,
         [this](HttpRequest&, Respond respond) {
           // Not ready until the ForensicPolicies were listed: a replica without them would let
           // protected pods go uncaptured.
           bool policiesLoaded = !kubernetes_ || kubernetes_->policiesSynced();
           bool windowBuilt = true;
           nlohmann::json streamDetail;
           if (stream_) {
             // A restarted replica answers once its window holds the stream's history, or
             // after stream.catchUpTimeout with the lag said here and in a metric.
             auto health = stream_->health();
             windowBuilt = health.caughtUp ||
                           std::chrono::steady_clock::now() - startedAt_ >= config_.stream.catchUpTimeout;
             streamDetail = {{"connected", health.connected},
                             {"caughtUp", health.caughtUp},
                             {"lagMessages", health.lagMessages}};
             if (!health.problem.empty()) streamDetail["problem"] = health.problem;
           }
           bool ready = ready_ && policiesLoaded && windowBuilt;
           nlohmann::json body = {{"status", ready ? "ready" : "not ready"}};
           if (!policiesLoaded) body["reason"] = "ForensicPolicies not listed from the API server yet";
           else if (!windowBuilt) body["reason"] = "rebuilding the audit window from the stream";
           if (stream_) body["stream"] = std::move(streamDetail);
           nlohmann::json warnings = nlohmann::json::array();
           if (!auditWarning_.empty()) warnings.push_back(auditWarning_);
           auto coverage = auditCoverageNow();
           body["audit"] = coverage.detail;
           if (!coverage.warning.empty()) warnings.push_back(coverage.warning);
           if (findings_) body["export"] = exportDetail(warnings);
           if (uploads_) {
             auto state = uploads_->state();
             body["s3"] = {{"pending", state.pending}, {"oldestPendingSeconds", state.oldestPendingSeconds}};
             if (!state.lastError.empty()) {
               body["s3"]["lastError"] = state.lastError;
               warnings.push_back("uploads to S3 are failing, " + std::to_string(state.pending) +
                                  " bundles wait on the volume: " + state.lastError);
             }
           }
           if (!warnings.empty()) body["warnings"] = std::move(warnings);
           HttpResponse response = jsonOk(body);
           if (!ready) response.status = 503;
           respond(std::move(response));
         }},
    };
  }

  static int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Every admission request: the coverage check's "the API server is calling us". Written only
  // when the second changed, so that the request threads rarely share the cache line.
  void noteAdmission() {
    int64_t now = nowMillis();
    if (now / 1000 != lastAdmissionMillis_.load(std::memory_order_relaxed) / 1000) {
      lastAdmissionMillis_.store(now, std::memory_order_relaxed);
    }
  }

  AuditCoverage auditCoverageNow() const {
    AuditCoverageInput input;
    input.ingestEnabled = config_.audit.auth != webhooks::AuditAuth::kDisabled;
    input.nowMillis = nowMillis();
    input.startedMillis = startedMillis_;
    input.lastAdmissionMillis = lastAdmissionMillis_.load(std::memory_order_relaxed);
    input.lastAuditMillis = auditIndexer_ ? auditIndexer_->lastEventMillis() : 0;
    input.silentAfter = config_.audit.silentAfter;
    input.auditMayGoElsewhere = kubernetes_ != nullptr && !stream_;
    return auditCoverage(input);
  }

  // Per sink: what waits in the outbox and why, for whoever reads /readyz.
  nlohmann::json exportDetail(nlohmann::json& warnings) const {
    nlohmann::json sinks = nlohmann::json::object();
    for (const auto& sink : findings_->sinks()) {
      nlohmann::json detail = {{"pending", sink.pending},
                               {"oldestPendingSeconds", sink.oldestPendingSeconds}};
      if (!sink.lastError.empty()) {
        detail["lastError"] = sink.lastError;
        warnings.push_back("findings sink " + sink.name + " is failing, " +
                           std::to_string(sink.pending) + " findings wait: " + sink.lastError);
      }
      sinks[sink.name] = std::move(detail);
    }
    return {{"sinks", std::move(sinks)}};
  }

  void startPolicies() {
    observePolicies(metrics_, policies_);
    if (config_.policies.dir.empty()) {
      log::warn("no policies.dir configured: no pod is protected");
      return;
    }
    policyWatcher_ = std::make_unique<policy::PolicyDirectoryWatcher>(
        config_.policies.dir, policies_, config_.policies.reloadInterval);
    policyWatcher_->pollOnce();
    policyWatcher_->start();
  }

  void connectKubernetes() {
    auto connection = kube::resolveConnection(config_.kubernetes);
    if (!connection) {
      log::info("no Kubernetes API: local mode (policies from files, local collectors only)");
      return;
    }
    controller::Kubernetes::Settings settings{config_.kubernetes, config_.leaderElection,
                                              config_.cluster};
    kubernetes_ = std::make_unique<controller::Kubernetes>(
        settings, std::move(*connection), kubeMetrics_, clusterMetrics_, policies_);
  }

  std::string evidenceDir() const {
    if (!config_.evidence.perReplica) return config_.evidence.dir;
    // Replicas sharing one volume each keep their own folder and ledger: two writers never
    // append to the same chain.
    return (std::filesystem::path(config_.evidence.dir) /
            kube::replicaIdentity(config_.kubernetes))
        .string();
  }

  void startCapture() {
    std::unique_ptr<evidence::Signer> signer;
    if (!config_.evidence.signingKeyFile.empty()) {
      signer = evidence::loadSigner(config_.evidence.signingKeyFile);
    }
    evidence_ = std::make_unique<evidence::FileStore>(evidenceDir(), std::move(signer));
    startUploads();
    std::function<std::string()> trailGap;
    if (stream_) trailGap = [this] { return stream_->journal().progress().gap; };
    auto collectors = controller::CollectorRegistry::localDefaults(
        window_, config_.correlation.window, std::move(trailGap));
    if (kubernetes_) kubernetes_->addCollectors(collectors);
    for (const auto& collector : hooks_.collectors) collectors.add(collector);
    controller::SnapshotManager::Options options;
    options.workers = config_.capture.workers;
    if (auto recorder = kubernetes_ ? kubernetes_->recorder() : nullptr) {
      options.observers.push_back(std::move(recorder));  // EvidenceSnapshot records
    }
    startFindingsExport();
    if (findings_) options.observers.push_back(findings_);
    controller::AuditAddenda::Options addendaOptions{.lateness = config_.correlation.lateness};
    auto recorder = kubernetes_ ? kubernetes_->evidenceRecorder() : nullptr;
    if (findings_ || recorder) {
      addendaOptions.onSealed = [findings = findings_, recorder](
                                    const controller::AuditAddenda::SealedAddendum& sealed) {
        if (recorder) recorder->addendumSealed(sealed.snapshotId, sealed.request, sealed.addendum);
        if (findings) findings->addendumSealed(sealed);
      };
    }
    addenda_ = std::make_shared<controller::AuditAddenda>(*evidence_, *window_, snapshotMetrics_,
                                                          std::move(addendaOptions));
    options.observers.push_back(addenda_);
    snapshots_ = std::make_unique<controller::SnapshotManager>(*evidence_, std::move(collectors),
                                                               snapshotMetrics_, options);
    capture_ = std::make_unique<controller::CaptureService>(
        *snapshots_, podCache_, stream_ ? &stream_->claims() : nullptr);
  }

  // With evidence.store s3: every sealed bundle and addendum is queued on the volume and
  // uploaded; the EvidenceSnapshot's location becomes its s3:// URL once it is all there.
  void startUploads() {
    if (config_.evidence.store != evidence::StoreSettings::Kind::kS3) return;
    evidence::S3Uploads::Options options;
    options.settings = config_.s3;
    options.queueDir = (std::filesystem::path(evidenceDir()) / ".uploads").string();
    auto recorder = kubernetes_ ? kubernetes_->evidenceRecorder() : nullptr;
    options.onUploaded = [recorder](const std::string& snapshotId, const std::string& relative,
                                    const std::string& url) {
      bool addendum = relative.find("/addenda/") != std::string::npos;
      if (recorder && !addendum) recorder->bundleUploaded(snapshotId, url);
    };
    uploads_ = std::make_unique<evidence::S3Uploads>(std::move(options));
    evidence_->onSealed([this](const evidence::SealedEvidence& sealed) {
      if (auto queued = uploads_->enqueue(sealed); !queued.ok()) {
        log::error("a sealed bundle could not be queued for upload; it stays on the volume",
                   {{"snapshot", sealed.snapshotId}, {"error", queued.error().message}});
      }
    });
    observeUploads(metrics_, *uploads_);
  }

  // With export.sinks: every snapshot, addendum and firing without a capture becomes an OCSF
  // finding in a durable outbox on the evidence volume, delivered to each sink from there.
  void startFindingsExport() {
    if (config_.findings.sinks.empty()) return;
    controller::FindingsExport::Options options;
    options.settings = config_.findings;
    options.outboxDir = config_.findings.outboxDir.empty()
                            ? (std::filesystem::path(evidenceDir()) / ".outbox").string()
                            : config_.findings.outboxDir;
    options.replica = kube::replicaIdentity(config_.kubernetes);
    // Replicas sharing the evidence volume (evidence.perReplica) each have an outbox in their own
    // folder; a replaced replica's is taken over by a live one.
    if (config_.findings.outboxDir.empty() && config_.evidence.perReplica) {
      options.orphansRoot = config_.evidence.dir;
    }
    findings_ = std::make_shared<controller::FindingsExport>(std::move(options), metrics_.registry());
    observeExport(metrics_, findings_);
  }

  void startAdmission() {
    webhooks::AdmissionHandler::Options admissionOptions;
    if (findings_) {
      admissionOptions.onFiredWithoutCapture = [findings = findings_](
                                                   const policy::CaptureRequest& request,
                                                   std::string why) {
        findings->firedWithoutCapture(request, std::move(why));
      };
    }
    admissionOptions.journal = journal_.get();
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
    options.window = config_.correlation.window;
    options.maxEvents = config_.correlation.maxEvents;
    options.spoolDir =
        config_.correlation.spoolDir.empty()
            ? (std::filesystem::path(config_.runtime.stateDir) / "audit-spool").string()
            : config_.correlation.spoolDir;
    window_ = std::make_shared<policy::CorrelationWindow>(options);
    // Events age out even when no new ones arrive to push them out.
    windowExpiry_ = std::make_unique<core::PeriodicWorker>(
        "audit window expiry", std::chrono::seconds(10),
        [window = window_](std::stop_token) { window->expire(std::chrono::system_clock::now()); });
    windowExpiry_->start();
    observeWindow(metrics_, window_);
  }

  // With stream.url: audit records go through the shared NATS stream, and captures are claimed
  // there so that one replica captures per deletion.
  void startStream() {
    if (!config_.stream.enabled()) return;
    streamMetrics_ = std::make_unique<stream::StreamMetrics>(metrics_.registry());
    stream::SharedStream::Options options;
    options.settings = config_.stream;
    options.window = config_.correlation.window;
    options.replica = kube::replicaIdentity(config_.kubernetes);
    options.claimTtl = policy::kMaxHoldDeletion + std::chrono::seconds(30);
    stream_ = stream::SharedStream::open(std::move(options), *streamMetrics_);
  }

  webhooks::AuditHandler::Options auditOptions() {
    const auto& audit = config_.audit;
    webhooks::AuditHandler::Options options;
    options.auth = audit.auth;
    options.maxEventBytes = audit.maxEventBytes;
    switch (audit.auth) {
      case webhooks::AuditAuth::kDisabled:
        log::info("audit ingest is off until audit.auth is set (mtls, token or none)");
        break;
      case webhooks::AuditAuth::kNone:
        auditWarning_ = "audit.auth is none: anyone who can reach /audit can post audit events";
        log::warn(auditWarning_);
        break;
      case webhooks::AuditAuth::kMtls:
        break;
      case webhooks::AuditAuth::kToken:
        options.token = webhooks::loadOrCreateAuditToken(audit.tokenFile);
        break;
    }
    return options;
  }

  void startAuditIngest() {
    if (config_.audit.auth != webhooks::AuditAuth::kDisabled) auditMetrics_.trackLastEvent(metrics_.registry());
    controller::AuditTriggerRunner::Hooks runnerHooks;
    if (findings_) {
      runnerHooks.onFiredWithoutCapture = [findings = findings_](const policy::CaptureRequest& request,
                                                                 std::string why) {
        findings->firedWithoutCapture(request, std::move(why));
      };
    }
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
        policies_, *capture_, *snapshots_, podCache_, *window_, std::move(runnerHooks));
    webhooks::AuditIndexer::Options indexing;
    indexing.queueBatches = config_.audit.queueBatches;
    indexing.queueBytes = config_.audit.queueBytes;
    indexing.maxEventBytes = config_.audit.maxEventBytes;
    auditIndexer_ = std::make_unique<webhooks::AuditIndexer>(
        indexing, *window_, auditMetrics_,
        [this](const policy::AuditEvent& event, std::string_view raw) {
          if (hooks_.auditEventObserver) hooks_.auditEventObserver(event);
          addenda_->onEvent(event, raw);
          auditRunner_->onEvent(event);
        });
    if (stream_) {
      journal_ = std::make_unique<webhooks::StreamAuditJournal>(stream_->journal(), *auditIndexer_);
      stream_->startReading(
          {[this](std::string body, bool live) { return auditIndexer_->enqueue(std::move(body), live); },
           [this] { return auditIndexer_->batchesIndexed(); }});
    } else {
      journal_ = std::make_unique<webhooks::LocalAuditJournal>(*auditIndexer_);
    }
    auditHandler_ =
        std::make_unique<webhooks::AuditHandler>(auditOptions(), *journal_, auditMetrics_);
  }

  std::vector<Route> webhookRoutes() {
    auto routes = healthRoutes();
    routes.push_back({"POST", "/validate", "validate", true,
                      [this](HttpRequest& request, Respond respond) {
                        noteAdmission();
                        admission_->handle(request, std::move(respond));
                      }});
    routes.push_back({"POST", "/audit", "audit", true,
                      [this](HttpRequest& request, Respond respond) {
                        auditHandler_->handle(request, std::move(respond));
                      },
                      [this](const HttpRequest& request) { return auditHandler_->refuse(request); }});
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

  Config config_;
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
  std::atomic<int64_t> lastAdmissionMillis_{0};  // the coverage check's other half
  std::unique_ptr<policy::PolicyDirectoryWatcher> policyWatcher_;
  std::unique_ptr<controller::Kubernetes> kubernetes_;  // before everything that uses its client
  std::unique_ptr<stream::StreamMetrics> streamMetrics_;
  std::unique_ptr<stream::SharedStream> stream_;  // before the captures that claim through it
  ServingCertificate serving_;
  std::unique_ptr<evidence::FileStore> evidence_;
  std::unique_ptr<evidence::S3Uploads> uploads_;  // with evidence.store s3
  std::shared_ptr<controller::FindingsExport> findings_;
  std::shared_ptr<controller::AuditAddenda> addenda_;
  std::unique_ptr<controller::SnapshotManager> snapshots_;
  std::unique_ptr<controller::CaptureService> capture_;
  std::unique_ptr<webhooks::AdmissionHandler> admission_;
  std::unique_ptr<controller::AuditTriggerRunner> auditRunner_;
  std::unique_ptr<webhooks::AuditIndexer> auditIndexer_;
  std::unique_ptr<policy::AuditJournal> journal_;
  std::unique_ptr<webhooks::AuditHandler> auditHandler_;
  std::atomic<bool> ready_{false};
  std::chrono::steady_clock::time_point startedAt_ = std::chrono::steady_clock::now();
  int64_t startedMillis_ = nowMillis();
  std::unique_ptr<webhooks::HttpServer> webhookServer_;
  std::unique_ptr<webhooks::HttpServer> metricsServer_;
  std::unique_ptr<controller::EvidenceDownloads> downloads_;  // before the server that calls it
  std::unique_ptr<webhooks::HttpServer> downloadServer_;
};

Application::Application(Config config)
    : impl_(std::make_unique<Impl>(std::move(config), ApplicationHooks{})) {}

Application::Application(Config config, const ApplicationHooks& hooks)
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
