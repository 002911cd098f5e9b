#include "podmortem/controller/kubernetes.h"

#include <unistd.h>

#include <cstdlib>

#include "podmortem/controller/evidence_recorder.h"
#include "podmortem/controller/kube_collectors.h"
#include "podmortem/kube/metrics.h"
#include "podmortem/controller/kube_policy_source.h"
#include "podmortem/kube/leader_elector.h"
#include "podmortem/controller/policy_status_writer.h"
#include "podmortem/kube/rest_client.h"
#include "pod_object.h"
#include "podmortem/core/log.h"

namespace podmortem::controller {

namespace log = core::log;

std::string replicaIdentity(const core::Config& config) {
  if (!config.kubernetes.podName.empty()) return config.kubernetes.podName;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "podmortem";
}

std::optional<kube::Connection> Kubernetes::resolveConnection(const core::Config& config) {
  const auto& k = config.kubernetes;
  auto fromKubeconfig = [&]() -> std::optional<kube::Connection> {
    std::string path = k.kubeconfig;
    if (path.empty()) path = kube::defaultKubeconfigPath().value_or("");
    if (path.empty()) return std::nullopt;
    return kube::kubeconfigConnection(path, k.context);
  };
  switch (k.mode) {
    case core::KubernetesMode::kNone:
      return std::nullopt;
    case core::KubernetesMode::kInCluster: {
      auto connection = kube::inClusterConnection();
      if (!connection) {
        throw kube::ConfigError("kubernetes.mode is in-cluster, but KUBERNETES_SERVICE_HOST or the "
                              "service account token is missing: not running in a pod?");
      }
      return connection;
    }
    case core::KubernetesMode::kKubeconfig: {
      auto connection = fromKubeconfig();
      if (!connection) {
        throw kube::ConfigError("kubernetes.mode is kubeconfig, but no kubeconfig was found "
                              "(kubernetes.kubeconfig, $KUBECONFIG, ~/.kube/config)");
      }
      return connection;
    }
    case core::KubernetesMode::kAuto:
      if (auto connection = kube::inClusterConnection()) return connection;
      return fromKubeconfig();
  }
  return std::nullopt;
}

class Kubernetes::Impl {
 public:
  Impl(const core::Config& config, kube::Connection connection, kube::Metrics& metrics,
       ClusterMetrics& clusterMetrics, policy::PolicyStore& policies)
      : connection_(std::move(connection)), metrics_(metrics), clusterMetrics_(clusterMetrics) {
    const auto& k = config.kubernetes;
    namespace_ = k.namespaceName;
    if (namespace_.empty()) {
      const char* env = std::getenv("POD_NAMESPACE");
      namespace_ = env != nullptr && *env != '\0' ? env : connection_.namespaceName;
    }
    if (namespace_.empty()) namespace_ = "podmortem-system";
    identity_ = replicaIdentity(config);
    kube::initializeThreadPool(k.clientThreads);
    kube::RestClientOptions options;
    options.qps = k.qps;
    options.burst = k.burst;
    options.requestTimeout = k.requestTimeout;
    client_ = kube::makeRestClient(connection_, options, &metrics_);
    policySource_ = std::make_unique<KubePolicySource>(*client_, policies, &metrics_);
    namespaces_ = std::make_unique<NamespaceLabels>(*client_, &metrics_);
    if (k.evidenceRecords) {
      EvidenceRecorder::Options recorderOptions;
      recorderOptions.namespaceName = namespace_;
      recorderOptions.replica = identity_;
      recorder_ = std::make_shared<EvidenceRecorder>(*client_, recorderOptions, &clusterMetrics_);
    }
    if (config.leaderElection.enabled) {
      kube::LeaderElector::Options electorOptions;
      electorOptions.namespaceName = namespace_;
      electorOptions.leaseName = config.leaderElection.leaseName;
      electorOptions.identity = identity_;
      electorOptions.leaseDuration = config.leaderElection.leaseDuration;
      electorOptions.retryPeriod = config.leaderElection.retryPeriod;
      elector_ = std::make_unique<kube::LeaderElector>(*client_, electorOptions, &metrics_);
    }
    statusWriter_ = std::make_unique<PolicyStatusWriter>(
        *client_, policies, *policySource_, activity_,
        [this] { return elector_ ? elector_->isLeader() : true; }, k.statusInterval);
  }

  void start() {
    log::info("connected to a Kubernetes API",
              {{"server", connection_.server}, {"source", connection_.source},
               {"namespace", namespace_}, {"identity", identity_}});
    policySource_->start();
    namespaces_->start();
    if (elector_) elector_->start();
    statusWriter_->start();
  }

  void stop() {
    statusWriter_->stop();
    if (elector_) elector_->stop();
    namespaces_->stop();
    policySource_->stop();
  }

  kube::Connection connection_;
  kube::Metrics& metrics_;
  ClusterMetrics& clusterMetrics_;
  std::string namespace_;
  std::string identity_;
  std::unique_ptr<kube::Client> client_;
  PolicyActivity activity_;
  std::unique_ptr<KubePolicySource> policySource_;
  std::unique_ptr<NamespaceLabels> namespaces_;
  std::shared_ptr<EvidenceRecorder> recorder_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<PolicyStatusWriter> statusWriter_;
};

Kubernetes::Kubernetes(const core::Config& config, kube::Connection connection,
                       kube::Metrics& metrics, ClusterMetrics& clusterMetrics,
                       policy::PolicyStore& policies)
    : impl_(std::make_unique<Impl>(config, std::move(connection), metrics, clusterMetrics,
                                   policies)) {}

Kubernetes::~Kubernetes() {
  if (impl_) impl_->stop();
}

void Kubernetes::start() { impl_->start(); }
void Kubernetes::stop() { impl_->stop(); }
kube::Client& Kubernetes::client() { return *impl_->client_; }
const std::string& Kubernetes::namespaceName() const { return impl_->namespace_; }
const std::string& Kubernetes::identity() const { return impl_->identity_; }
const std::string& Kubernetes::server() const { return impl_->connection_.server; }
void Kubernetes::addCollectors(CollectorRegistry& registry) {
  addKubeCollectors(registry, *impl_->client_, &impl_->clusterMetrics_);
}
std::shared_ptr<SnapshotObserver> Kubernetes::recorder() { return impl_->recorder_; }
PolicyActivity& Kubernetes::activity() { return impl_->activity_; }
std::optional<policy::Labels> Kubernetes::namespaceLabels(std::string_view ns) const {
  return impl_->namespaces_->labelsOf(ns);
}
std::shared_ptr<const policy::PodRecord> Kubernetes::lookupPod(const std::string& namespaceName,
                                                              const std::string& name) {
  auto response = internal::getPod(*impl_->client_, namespaceName, name);
  if (!response.ok()) return nullptr;
  auto parsed = policy::parsePod(response.body);
  if (!parsed.ok()) {
    log::warn("the API server's pod does not parse",
              {{"namespace", namespaceName}, {"pod", name}, {"error", parsed.error().message}});
    return nullptr;
  }
  auto pod = std::make_shared<policy::PodRecord>(std::move(parsed).value());
  pod->json = std::move(response.body);
  pod->source = "Kubernetes API";
  return pod;
}

bool Kubernetes::policiesSynced() const {
  // Namespace labels too: a namespaceSelector cannot match before they are known.
  return impl_->policySource_->synced() && impl_->namespaces_->synced();
}
bool Kubernetes::isLeader() const { return impl_->elector_ ? impl_->elector_->isLeader() : true; }

}  // namespace podmortem::controller
