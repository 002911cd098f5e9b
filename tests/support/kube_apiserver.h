#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "https_client.h"

namespace podmortem::testing {

// Where a real kube-apiserver and etcd are (envtest-style): $KUBEBUILDER_ASSETS (a folder with
// `kube-apiserver` and `etcd`), else the binary unpacked from ../shared/envtest into the build
// tree for the version in $PODMORTEM_KUBE_VERSION (1.26 unless set) and Debian's etcd.
struct EnvtestBinaries {
  std::string apiserver;
  std::string etcd;
  std::string version;     // "1.26", "1.21", or what the assets folder holds
  std::string whyMissing;  // non-empty: the tests cannot run, and how to make them run
};
EnvtestBinaries findEnvtestBinaries();

struct ApiResponse {
  unsigned status = 0;
  std::string body;
  nlohmann::json json() const;  // the body parsed; null when it is not JSON
};

// etcd and a kube-apiserver on free loopback ports, with a CA, serving and client
// certificates made for the run, RBAC on, the ServiceAccount admission plugin off (no
// controller-manager makes tokens), optionally sending audit events to a webhook. No kubelet,
// scheduler or controller-manager run: see ../shared/envtest/README.md for what that means.
class KubeApiserver {
 public:
  struct Options {
    // Audit webhook backend: events batched at most 1 s, sent with this bearer token to this
    // URL (checked against caFile), filtered by auditPolicyFile. Empty url: no audit webhook.
    std::string auditUrl;
    std::string auditToken;
    std::string auditCaFile;
    std::string auditPolicyFile;
  };

  KubeApiserver(std::filesystem::path dir, EnvtestBinaries binaries, Options options);
  ~KubeApiserver();  // stops both, leaving nothing running
  KubeApiserver(const KubeApiserver&) = delete;
  KubeApiserver& operator=(const KubeApiserver&) = delete;

  // Starts etcd (first time only) and the API server, and waits until /readyz answers.
  void start();
  void stopApiserver();
  void restartApiserver();

  uint16_t port() const { return port_; }
  std::string url() const;
  const std::filesystem::path& dir() const { return dir_; }
  std::string caFile() const;
  const EnvtestBinaries& binaries() const { return binaries_; }

  // A kubeconfig for `user` in `groups`, with a client certificate signed by the cluster CA.
  std::filesystem::path userKubeconfig(const std::string& user,
                                       const std::vector<std::string>& groups);
  std::filesystem::path adminKubeconfig() { return userKubeconfig("admin", {"system:masters"}); }
  // A kubeconfig for a service account, with a token from its TokenRequest (1 hour).
  std::filesystem::path serviceAccountKubeconfig(const std::string& namespaceName,
                                                 const std::string& name);

  // A request as `user` (a client certificate of userKubeconfig). `contentType` for the body.
  ApiResponse request(const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& contentType = "application/json",
                      const std::string& user = "admin");
  // Server-side apply of every YAML document in `yaml` as admin (field manager "podmortem-tests",
  // forced); `dryRun` asks the server to validate without storing. Returns each document's answer.
  std::vector<ApiResponse> apply(const std::string& yaml, bool dryRun = false);
  // Plain creates (POST of each YAML document), as a client-side `kubectl create --validate=false`
  // does: a 1.21 server then drops fields it does not know instead of refusing the object.
  std::vector<ApiResponse> create(const std::string& yaml);
  // The REST path of an object ("/apis/<group>/<version>/namespaces/<ns>/<resource>/<name>").
  static std::string pathOf(const nlohmann::json& object);

  std::string log() const;  // the API server's log

 private:
  void makeCertificates();
  std::vector<std::string> apiserverFlags() const;
  HttpClient& clientFor(const std::string& user);

  std::filesystem::path dir_;
  EnvtestBinaries binaries_;
  Options options_;
  uint16_t etcdPort_ = 0;
  uint16_t peerPort_ = 0;
  uint16_t port_ = 0;
  ChildProcess etcd_;
  ChildProcess apiserver_;
  std::vector<std::pair<std::string, std::unique_ptr<HttpClient>>> clients_;
};

}  // namespace podmortem::testing
