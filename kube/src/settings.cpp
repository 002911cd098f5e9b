#include "podmortem/kube/settings.h"

#include <unistd.h>

#include <cstdlib>

namespace podmortem::kube {

void ClientSettings::bind(core::SectionBinder<ClientSettings>& keys) {
  keys.choice("mode", &ClientSettings::mode,
              {{"auto", Mode::kAuto},
               {"none", Mode::kNone},
               {"in-cluster", Mode::kInCluster},
               {"kubeconfig", Mode::kKubeconfig}},
              "auto (in-cluster, then $KUBECONFIG or ~/.kube/config, else none), none, "
              "in-cluster or kubeconfig");
  keys.path("kubeconfig", &ClientSettings::kubeconfig, "kubeconfig file")
      .whenUnset("$KUBECONFIG, then ~/.kube/config");
  keys.text("context", &ClientSettings::context, "kubeconfig context")
      .whenUnset("the kubeconfig's current-context");
  keys.text("namespace", &ClientSettings::namespaceName,
            "podmortem's own namespace, for EvidenceSnapshots, the lease and the certificate "
            "Secret")
      .whenUnset("POD_NAMESPACE, then the service account's, then podmortem-system");
  keys.text("podName", &ClientSettings::podName, "this replica's name")
      .whenUnset("POD_NAME, then the host name");
  keys.number("qps", &ClientSettings::qps, 1, 10'000,
              "client-side rate limit on API requests per second");
  keys.integer("burst", &ClientSettings::burst, 1, 100'000,
               "API requests allowed at once above the rate");
  keys.duration("requestTimeout", &ClientSettings::requestTimeout, "timeout of one API request");
  keys.integer("clientThreads", &ClientSettings::clientThreads, 1, 64,
               "threads of the API client's I/O pool");
}

void LeaderElectionSettings::bind(core::SectionBinder<LeaderElectionSettings>& keys) {
  keys.flag("enabled", &LeaderElectionSettings::enabled,
            "elect one replica (Lease) to write policy status");
  keys.text("leaseName", &LeaderElectionSettings::leaseName, "the coordination.k8s.io Lease", true);
  keys.duration("leaseDuration", &LeaderElectionSettings::leaseDuration,
                "how long a lease holds without renewal");
  keys.duration("retryPeriod", &LeaderElectionSettings::retryPeriod,
                "how often the lease is renewed or tried");
}

core::Status LeaderElectionSettings::validate() const {
  if (retryPeriod >= leaseDuration) {
    return core::makeError(core::ErrorCode::kInvalidArgument,
                           "leaderElection.retryPeriod must be shorter than "
                           "leaderElection.leaseDuration, or the lease lapses between renewals");
  }
  return {};
}

std::string replicaIdentity(const ClientSettings& settings) {
  if (!settings.podName.empty()) return settings.podName;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "podmortem";
}

}  // namespace podmortem::kube
