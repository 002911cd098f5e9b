#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "podmortem/core/log.h"

namespace podmortem::core {

struct TlsConfig {
  std::string certFile;      // empty: a self-signed CA and serving cert are made in stateDir
  std::string keyFile;
  std::string clientCAFile;  // CA that signs client certificates (mTLS on /audit)
  std::vector<std::string> dnsNames;  // extra SANs for the generated serving certificate
  std::chrono::milliseconds reloadInterval{std::chrono::seconds(2)};
  // In a cluster: keep the CA and serving certificate in a Secret shared by the replicas
  // (created when missing, renewed before expiry) and write the CA into the webhook
  // configuration's caBundle.
  bool manageSecret = false;
  std::string secretName = "podmortem-webhook-tls";
  std::string webhookConfiguration = "podmortem";  // ValidatingWebhookConfiguration name
};

enum class KubernetesMode { kAuto, kNone, kInCluster, kKubeconfig };

struct KubernetesConfig {
  KubernetesMode mode = KubernetesMode::kAuto;
  std::string kubeconfig;  // empty: $KUBECONFIG, then ~/.kube/config
  std::string context;     // empty: the kubeconfig's current-context
  std::string namespaceName;  // podmortem's own; empty: POD_NAMESPACE, the service account's, or
                              // podmortem-system
  std::string podName;        // this replica; empty: POD_NAME, else the host name
  double qps = 20;
  uint32_t burst = 40;
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(10)};
  uint32_t clientThreads = 4;  // the HTTP client library's thread pool
  bool evidenceRecords = true;  // create EvidenceSnapshot objects
  std::chrono::milliseconds statusInterval{std::chrono::seconds(10)};  // policy status writes
};

struct LeaderElectionConfig {
  bool enabled = true;
  std::string leaseName = "podmortem-leader";
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};
};

struct LimitsConfig {
  uint64_t maxBodyBytes = 12 * 1024 * 1024;  // the API server's 10 MiB audit batch plus headroom
  uint32_t maxConnections = 1024;
  std::chrono::milliseconds readTimeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(90)};
  std::chrono::milliseconds shutdownTimeout{std::chrono::seconds(10)};
};

// Who may POST audit events. Unset: the /audit endpoint refuses everyone (403) until an
// authentication mode is chosen; `none` must be chosen explicitly.
enum class AuditAuth { kDisabled, kMtls, kToken, kNone };

struct AuditConfig {
  AuditAuth auth = AuditAuth::kDisabled;
  std::string tokenFile;  // auth token: made (random, 0600) when missing
  std::chrono::milliseconds window{std::chrono::minutes(30)};
  uint64_t maxEvents = 1'000'000;
  uint64_t maxEventBytes = 256 * 1024;
  uint32_t queueBatches = 64;  // batches waiting to be indexed; more get 429
  uint64_t queueBytes = uint64_t{256} << 20;  // and their bytes at most
  std::string spoolDir;        // raw events on disk; empty: <stateDir>/audit-spool
};

struct Config {
  std::string listen = "0.0.0.0:8443";
  std::string metricsListen = "0.0.0.0:9090";
  TlsConfig tls;
  std::string stateDir = "/var/lib/podmortem";
  std::string policiesDir;  // empty: no local policy files
  std::chrono::milliseconds policiesReloadInterval{std::chrono::seconds(2)};
  std::string evidenceDir = "/var/lib/podmortem/evidence";
  std::string signingKeyFile;  // empty: manifests are hashed and chained, not signed
  bool evidencePerReplica = false;  // write into <evidence.dir>/<podName>/, own ledger
  uint32_t snapshotWorkers = 4;
  LimitsConfig limits;
  AuditConfig audit;
  KubernetesConfig kubernetes;
  LeaderElectionConfig leaderElection;
  uint32_t threads = 0;  // 0: one event loop per core
  log::Level logLevel = log::Level::kInfo;
  log::Format logFormat = log::Format::kJson;
};

// A bad configuration: the message names the key and, when there is one, the file.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every key the file and --set understand, with a one-line description (for help and README).
struct ConfigKey {
  const char* key;
  const char* description;
};
const std::vector<ConfigKey>& configKeys();

// Reads a YAML file over the defaults. Relative paths in the file are taken relative to the
// file's own folder, so a config works whatever the working directory is.
Config loadConfigFile(const std::string& path);

// Sets one dotted key ("limits.maxBodyBytes") from its text form; used for command-line
// overrides. Relative paths are taken relative to the working directory.
void setConfigValue(Config& config, const std::string& key, const std::string& value);

// Host and port of a "host:port" listen address; throws ConfigError naming `key`.
struct HostPort {
  std::string host;
  uint16_t port;
};
HostPort parseHostPort(const std::string& key, const std::string& value);

}  // namespace podmortem::core
