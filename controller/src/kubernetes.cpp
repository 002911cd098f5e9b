#include "podmortem/controller/kubernetes.h"

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

class Kubernetes::Impl {
 public:
  Impl(const Settings& settings, kube::Connection connection, kube::Metrics& metrics,
       ClusterMetrics& clusterMetrics, policy::PolicyStore& policies)
      : connection_(std::move(connection)), metrics_(metrics), clusterMetrics_(clusterMetrics) {
    const auto& k = settings.client;
    const auto& election = settings.leaderElection;
    namespace_ = k.namespaceName;
    if (namespace_.empty()) {
      const char* env = std::getenv("POD_NAMESPACE");
      namespace_ = env != nullptr && *env != '\0' ? env : connection_.namespaceName;
    }
    if (namespace_.empty()) namespace_ = "podmortem-system";
    identity_ = kube::replicaIdentity(k);
    kube::initializeThreadPool(k.clientThreads);
    kube::RestClientOptions options;
    options.qps = k.qps;
    options.burst = k.burst;
    options.requestTimeout = k.requestTimeout;
    client_ = kube::makeRestClient(connection_, options, &metrics_);
    policySource_ = std::make_unique<KubePolicySource>(*client_, policies, &metrics_);
    namespaces_ = std::make_unique<NamespaceLabels>(*client_, &metrics_);
    if (settings.cluster.evidenceRecords) {
      EvidenceRecorder::Options recorderOptions;
      recorderOptions.namespaceName = namespace_;
      recorderOptions.replica = identity_;
      recorder_ = std::make_shared<EvidenceRecorder>(*client_, recorderOptions, &clusterMetrics_);
    }
    if (election.enabled) {
      kube::LeaderElector::Options electorOptions;
      electorOptions.namespaceName = namespace_;
      electorOptions.leaseName = election.leaseName;
      electorOptions.identity = identity_;
      electorOptions.leaseDuration = election.leaseDuration;
      electorOptions.retryPeriod = election.retryPeriod;
      elector_ = std::make_unique<kube::LeaderElector>(*client_, electorOptions, &metrics_);
    }
    statusWriter_ = std::make_unique<PolicyStatusWriter>(
        *client_, policies, *policySource_, activity_,
        [this] { return elector_ ? elector_->isLeader() : true; }, settings.cluster.statusInterval);
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

Kubernetes::Kubernetes(const Settings& settings, kube::Connection connection,
                       kube::Metrics& metrics, ClusterMetrics& clusterMetrics,
                       policy::PolicyStore& policies)
    : impl_(std::make_unique<Impl>(settings, std::move(connection), metrics, clusterMetrics,
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

std::shared_ptr<EvidenceRecorder> Kubernetes::evidenceRecorder() { return impl_->recorder_; }
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
