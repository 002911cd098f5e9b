#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "podmortem/kube/settings.h"

namespace podmortem::kube {

// Where the API server is and how to prove who we are, from the service account (in-cluster)
// or from a kubeconfig. Secrets stay in memory or in their files; nothing here is ever logged
// but `server`, `source` and `namespaceName`.
struct Connection {
  std::string server;     // https://10.96.0.1:443
  std::string caPem;      // trusted CA certificates; empty: the system store (kubeconfig only)
  bool insecureSkipVerify = false;
  std::string clientCertPem;
  std::string clientKeyPem;
  std::string token;      // a fixed bearer token
  std::string tokenFile;  // re-read when it changes (projected service-account tokens rotate)
  std::string namespaceName;  // the namespace podmortem runs in, when the source tells it
  std::string source;         // "in-cluster" or "kubeconfig <path> context <name>", for logs
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The service account's files under `serviceAccountDir` (normally
// /var/run/secrets/kubernetes.io/serviceaccount) and KUBERNETES_SERVICE_HOST/PORT. nullopt when
// not running in a pod; throws ConfigError when the pod's files are unusable.
std::optional<Connection> inClusterConnection(
    const std::string& serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount");

// A kubeconfig's context (`context` empty: current-context). CA, client certificate and key,
// token: as files (relative to the kubeconfig's folder) or inline base64 data. Throws
// ConfigError naming the file and what is wrong; an `exec` or `auth-provider` credential
// plugin is refused with a clear "not supported".
Connection kubeconfigConnection(const std::string& path, const std::string& context = "");
// The same from the kubeconfig's text: `path` names it in errors, files it refers to are taken
// relative to `base`.
Connection kubeconfigConnectionFromText(std::string_view text, const std::string& path,
                                        const std::filesystem::path& base,
                                        const std::string& context = "");

// $KUBECONFIG (first entry), else ~/.kube/config, when the file exists.
std::optional<std::string> defaultKubeconfigPath();

// The connection `settings.mode` asks for: none (nullopt), in-cluster, a kubeconfig, or auto
// (in-cluster, then $KUBECONFIG / ~/.kube/config, else none). Throws ConfigError when the chosen
// mode cannot be used.
std::optional<Connection> resolveConnection(const ClientSettings& settings);

}  // namespace podmortem::kube
