#include "podmortem/core/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <map>

#include "podmortem/core/duration.h"

namespace podmortem::core {

namespace {

namespace fs = std::filesystem;

// How one key is applied. `base` is the folder relative paths are resolved against.
using Setter = std::function<void(Config&, const std::string& value, const fs::path& base)>;

struct KeySpec {
  const char* description;
  Setter set;
};

[[noreturn]] void badValue(const std::string& expected, const std::string& value) {
  throw ConfigError("expected " + expected + ", got \"" + value + "\"");
}

uint64_t parseUnsigned(const std::string& value, uint64_t min, uint64_t max) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size() || number < min || number > max) {
    badValue("an integer from " + std::to_string(min) + " to " + std::to_string(max), value);
  }
  return number;
}

std::chrono::milliseconds parsePositiveDuration(const std::string& value) {
  auto duration = parseDuration(value);
  if (!duration || duration->count() <= 0) badValue("a positive duration such as 10s or 2m", value);
  return *duration;
}

std::string resolvePath(const std::string& value, const fs::path& base) {
  if (value.empty()) return value;
  fs::path path(value);
  if (path.is_absolute() || base.empty()) return path.lexically_normal().string();
  return (base / path).lexically_normal().string();
}

Setter pathSetter(std::string Config::*member) {
  return [member](Config& c, const std::string& v, const fs::path& base) {
    c.*member = resolvePath(v, base);
  };
}

Setter tlsPathSetter(std::string TlsConfig::*member) {
  return [member](Config& c, const std::string& v, const fs::path& base) {
    c.tls.*member = resolvePath(v, base);
  };
}

Setter listenSetter(std::string Config::*member, const char* key) {
  return [member, key](Config& c, const std::string& v, const fs::path&) {
    parseHostPort(key, v);
    c.*member = v;
  };
}

bool parseBool(const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  badValue("true or false", value);
}

Setter durationSetter(std::chrono::milliseconds LimitsConfig::*member) {
  return [member](Config& c, const std::string& v, const fs::path&) {
    c.limits.*member = parsePositiveDuration(v);
  };
}

const std::map<std::string, KeySpec>& keySpecs() {
  static const std::map<std::string, KeySpec> specs = {
      {"listen",
       {"address of the HTTPS webhook server (default 0.0.0.0:8443)",
        listenSetter(&Config::listen, "listen")}},
      {"metricsListen",
       {"address of the plain-HTTP /metrics endpoint (default 0.0.0.0:9090)",
        listenSetter(&Config::metricsListen, "metricsListen")}},
      {"tls.certFile",
       {"serving certificate (PEM); empty: generate a self-signed CA and certificate in stateDir",
        tlsPathSetter(&TlsConfig::certFile)}},
      {"tls.keyFile", {"private key of the serving certificate (PEM)",
                       tlsPathSetter(&TlsConfig::keyFile)}},
      {"tls.clientCAFile", {"CA bundle (PEM) that client certificates are verified against",
                            tlsPathSetter(&TlsConfig::clientCAFile)}},
      {"tls.dnsNames",
       {"extra DNS names for the generated serving certificate (list)",
        [](Config& c, const std::string& v, const fs::path&) { c.tls.dnsNames.push_back(v); }}},
      {"tls.reloadInterval",
       {"how often certificate files are checked for changes (default 2s)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.tls.reloadInterval = parsePositiveDuration(v);
        }}},
      {"tls.manageSecret",
       {"in a cluster: keep the CA and serving certificate in tls.secretName, write the CA into "
        "the webhook configuration, renew before expiry (default false)",
        [](Config& c, const std::string& v, const fs::path&) { c.tls.manageSecret = parseBool(v); }}},
      {"tls.secretName", {"Secret holding the webhook CA and certificate (default podmortem-webhook-tls)",
                          [](Config& c, const std::string& v, const fs::path&) {
                            if (v.empty()) badValue("a Secret name", v);
                            c.tls.secretName = v;
                          }}},
      {"tls.webhookConfiguration",
       {"ValidatingWebhookConfiguration whose caBundle is kept current; empty: none (default "
        "podmortem)",
        [](Config& c, const std::string& v, const fs::path&) { c.tls.webhookConfiguration = v; }}},
      {"kubernetes.mode",
       {"auto (in-cluster, then $KUBECONFIG or ~/.kube/config, else none), none, in-cluster or "
        "kubeconfig (default auto)",
        [](Config& c, const std::string& v, const fs::path&) {
          static const std::map<std::string, KubernetesMode> modes = {
              {"auto", KubernetesMode::kAuto},
              {"none", KubernetesMode::kNone},
              {"in-cluster", KubernetesMode::kInCluster},
              {"kubeconfig", KubernetesMode::kKubeconfig}};
          auto it = modes.find(v);
          if (it == modes.end()) badValue("one of auto, none, in-cluster, kubeconfig", v);
          c.kubernetes.mode = it->second;
        }}},
      {"kubernetes.kubeconfig", {"kubeconfig file (default $KUBECONFIG, then ~/.kube/config)",
                                 [](Config& c, const std::string& v, const fs::path& base) {
                                   c.kubernetes.kubeconfig = resolvePath(v, base);
                                 }}},
      {"kubernetes.context", {"kubeconfig context (default its current-context)",
                              [](Config& c, const std::string& v, const fs::path&) {
                                c.kubernetes.context = v;
                              }}},
      {"kubernetes.namespace",
       {"podmortem's own namespace, for EvidenceSnapshots, the lease and the certificate Secret "
        "(default POD_NAMESPACE, then the service account's, then podmortem-system)",
        [](Config& c, const std::string& v, const fs::path&) { c.kubernetes.namespaceName = v; }}},
      {"kubernetes.podName", {"this replica's name (default POD_NAME, then the host name)",
                              [](Config& c, const std::string& v, const fs::path&) {
                                c.kubernetes.podName = v;
                              }}},
      {"kubernetes.qps", {"client-side rate limit on API requests per second (default 20)",
                          [](Config& c, const std::string& v, const fs::path&) {
                            c.kubernetes.qps = static_cast<double>(parseUnsigned(v, 1, 10'000));
                          }}},
      {"kubernetes.burst", {"API requests allowed at once above the rate (default 40)",
                            [](Config& c, const std::string& v, const fs::path&) {
                              c.kubernetes.burst = static_cast<uint32_t>(parseUnsigned(v, 1, 10'000));
                            }}},
      {"kubernetes.requestTimeout", {"timeout of one API request (default 10s)",
                                     [](Config& c, const std::string& v, const fs::path&) {
                                       c.kubernetes.requestTimeout = parsePositiveDuration(v);
                                     }}},
      {"kubernetes.clientThreads", {"threads of the API client's I/O pool (default 4)",
                                    [](Config& c, const std::string& v, const fs::path&) {
                                      c.kubernetes.clientThreads =
                                          static_cast<uint32_t>(parseUnsigned(v, 2, 64));
                                    }}},
      {"kubernetes.evidenceRecords",
       {"record every snapshot as an EvidenceSnapshot object (default true)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.kubernetes.evidenceRecords = parseBool(v);
        }}},
      {"kubernetes.statusInterval",
       {"at most one ForensicPolicy status write per policy this often (default 10s)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.kubernetes.statusInterval = parsePositiveDuration(v);
        }}},
      {"leaderElection.enabled",
       {"elect one replica (Lease) to write policy status (default true)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.leaderElection.enabled = parseBool(v);
        }}},
      {"leaderElection.leaseName", {"the coordination.k8s.io Lease (default podmortem-leader)",
                                    [](Config& c, const std::string& v, const fs::path&) {
                                      if (v.empty()) badValue("a Lease name", v);
                                      c.leaderElection.leaseName = v;
                                    }}},
      {"leaderElection.leaseDuration",
       {"how long a lease holds without renewal (default 15s)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.leaderElection.leaseDuration = parsePositiveDuration(v);
        }}},
      {"leaderElection.retryPeriod", {"how often the lease is renewed or tried (default 2s)",
                                      [](Config& c, const std::string& v, const fs::path&) {
                                        c.leaderElection.retryPeriod = parsePositiveDuration(v);
                                      }}},
      {"stateDir", {"folder for generated certificates and other state (default /var/lib/podmortem)",
                    pathSetter(&Config::stateDir)}},
      {"policies.dir", {"folder of ForensicPolicy YAML files (local mode)",
                        pathSetter(&Config::policiesDir)}},
      {"policies.reloadInterval",
       {"how often the policy folder is checked for changes (default 2s)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.policiesReloadInterval = parsePositiveDuration(v);
        }}},
      {"evidence.dir", {"folder evidence bundles and the custody ledger are written to",
                        pathSetter(&Config::evidenceDir)}},
      {"evidence.signingKeyFile",
       {"Ed25519 private key (PEM) or HMAC secret used to sign each manifest",
        pathSetter(&Config::signingKeyFile)}},
      {"evidence.perReplica",
       {"write into <evidence.dir>/<kubernetes.podName>/ with its own ledger, so replicas can "
        "share one volume (default false)",
        [](Config& c, const std::string& v, const fs::path&) { c.evidencePerReplica = parseBool(v); }}},
      {"evidence.workers",
       {"threads that run collectors and write bundles (default 4)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.snapshotWorkers = static_cast<uint32_t>(parseUnsigned(v, 1, 256));
        }}},
      {"limits.maxBodyBytes",
       {"largest request body accepted, in bytes (default 12582912)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.limits.maxBodyBytes = parseUnsigned(v, 1024, uint64_t{1} << 32);
        }}},
      {"limits.maxConnections",
       {"connections served at once; more are closed at accept (default 1024)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.limits.maxConnections = static_cast<uint32_t>(parseUnsigned(v, 1, 1'000'000));
        }}},
      {"limits.readTimeout",
       {"time allowed for a TLS handshake or a whole request to arrive (default 10s)",
        durationSetter(&LimitsConfig::readTimeout)}},
      {"limits.idleTimeout", {"keep-alive connections idle longer are closed (default 90s)",
                              durationSetter(&LimitsConfig::idleTimeout)}},
      {"limits.shutdownTimeout",
       {"on SIGTERM, how long in-flight requests may take to finish (default 10s)",
        durationSetter(&LimitsConfig::shutdownTimeout)}},
      {"audit.auth",
       {"who may POST /audit: mtls (client certificate from tls.clientCAFile), token (bearer "
        "token from audit.tokenFile) or none; unset refuses everyone",
        [](Config& c, const std::string& v, const fs::path&) {
          static const std::map<std::string, AuditAuth> modes = {
              {"mtls", AuditAuth::kMtls}, {"token", AuditAuth::kToken}, {"none", AuditAuth::kNone}};
          auto it = modes.find(v);
          if (it == modes.end()) badValue("one of mtls, token, none", v);
          c.audit.auth = it->second;
        }}},
      {"audit.tokenFile",
       {"file holding the bearer token for audit.auth token (made with a random token if missing)",
        [](Config& c, const std::string& v, const fs::path& base) {
          c.audit.tokenFile = resolvePath(v, base);
        }}},
      {"audit.window", {"how long audit events are kept for correlation (default 30m)",
                        [](Config& c, const std::string& v, const fs::path&) {
                          c.audit.window = parsePositiveDuration(v);
                        }}},
      {"audit.maxEvents", {"audit events kept at most; the oldest go first (default 1000000)",
                           [](Config& c, const std::string& v, const fs::path&) {
                             c.audit.maxEvents = parseUnsigned(v, 1, 100'000'000);
                           }}},
      {"audit.maxEventBytes",
       {"largest single audit event accepted, in bytes (default 262144)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.audit.maxEventBytes = parseUnsigned(v, 1024, uint64_t{64} << 20);
        }}},
      {"audit.queueBatches",
       {"audit batches waiting to be indexed; when full /audit answers 429 (default 64)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.audit.queueBatches = static_cast<uint32_t>(parseUnsigned(v, 1, 100'000));
        }}},
      {"audit.queueBytes",
       {"bytes of audit batches waiting to be indexed; more get 429 (default 268435456)",
        [](Config& c, const std::string& v, const fs::path&) {
          c.audit.queueBytes = parseUnsigned(v, 1 << 20, uint64_t{16} << 30);
        }}},
      {"audit.spoolDir",
       {"folder for the raw audit events of the window (default <stateDir>/audit-spool)",
        [](Config& c, const std::string& v, const fs::path& base) {
          c.audit.spoolDir = resolvePath(v, base);
        }}},
      {"threads", {"event-loop threads (default 0: one per core)",
                   [](Config& c, const std::string& v, const fs::path&) {
                     c.threads = static_cast<uint32_t>(parseUnsigned(v, 0, 256));
                   }}},
      {"log.level", {"debug, info, warn or error (default info)",
                     [](Config& c, const std::string& v, const fs::path&) {
                       static const std::map<std::string, log::Level> levels = {
                           {"debug", log::Level::kDebug},
                           {"info", log::Level::kInfo},
                           {"warn", log::Level::kWarn},
                           {"error", log::Level::kError}};
                       auto it = levels.find(v);
                       if (it == levels.end()) badValue("one of debug, info, warn, error", v);
                       c.logLevel = it->second;
                     }}},
      {"log.format", {"json (default) or text",
                      [](Config& c, const std::string& v, const fs::path&) {
                        if (v == "json") {
                          c.logFormat = log::Format::kJson;
                        } else if (v == "text") {
                          c.logFormat = log::Format::kText;
                        } else {
                          badValue("json or text", v);
                        }
                      }}},
  };
  return specs;
}

void applyKey(Config& config, const std::string& key, const std::string& value,
              const fs::path& base) {
  const auto& specs = keySpecs();
  auto it = specs.find(key);
  if (it == specs.end()) throw ConfigError("unknown key \"" + key + "\"");
  try {
    it->second.set(config, value, base);
  } catch (const ConfigError& error) {
    throw ConfigError("key \"" + key + "\": " + error.what());
  }
}

void applyNode(Config& config, const YAML::Node& node, const std::string& prefix,
               const fs::path& base) {
  for (const auto& entry : node) {
    std::string name = entry.first.as<std::string>();
    std::string key = prefix.empty() ? name : prefix + "." + name;
    const YAML::Node& value = entry.second;
    if (value.IsMap()) {
      if (keySpecs().count(key) != 0) throw ConfigError("key \"" + key + "\": expected a value, got a map");
      applyNode(config, value, key, base);
    } else if (value.IsSequence()) {
      if (key != "tls.dnsNames") {
        if (keySpecs().count(key) == 0) throw ConfigError("unknown key \"" + key + "\"");
        throw ConfigError("key \"" + key + "\": expected a single value, got a list");
      }
      for (const auto& item : value) {
        if (!item.IsScalar()) throw ConfigError("key \"" + key + "\": expected a list of names");
        applyKey(config, key, item.as<std::string>(), base);
      }
    } else if (value.IsScalar()) {
      if (key == "tls.dnsNames") throw ConfigError("key \"tls.dnsNames\": expected a list");
      applyKey(config, key, value.as<std::string>(), base);
    } else if (value.IsNull()) {
      if (keySpecs().count(key) == 0) throw ConfigError("unknown key \"" + key + "\"");
      // An explicit null keeps the default.
    }
  }
}

}  // namespace

const std::vector<ConfigKey>& configKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> list;
    for (const auto& [key, spec] : keySpecs()) list.push_back({key.c_str(), spec.description});
    return list;
  }();
  return keys;
}

Config loadConfigFile(const std::string& path) {
  Config config;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot read the file");
  } catch (const YAML::Exception& error) {
    throw ConfigError(path + ": not valid YAML: " + error.what());
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) throw ConfigError(path + ": expected a map of settings at the top level");
  fs::path base = fs::absolute(fs::path(path)).parent_path();
  try {
    applyNode(config, root, "", base);
  } catch (const ConfigError& error) {
    throw ConfigError(path + ": " + error.what());
  } catch (const YAML::Exception& error) {
    throw ConfigError(path + ": " + error.what());
  }
  return config;
}

void setConfigValue(Config& config, const std::string& key, const std::string& value) {
  applyKey(config, key, value, fs::current_path());
}

HostPort parseHostPort(const std::string& key, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw ConfigError("key \"" + key + "\": expected host:port, got \"" + value + "\"");
  }
  std::string host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string portText = value.substr(colon + 1);
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port > 65535) {
    throw ConfigError("key \"" + key + "\": port must be 0-65535, got \"" + portText + "\"");
  }
  return {host, static_cast<uint16_t>(port)};
}

}  // namespace podmortem::core
