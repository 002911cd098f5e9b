#include "cluster.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "kube_checks.h"
#include "nats_cluster.h"

namespace podmortem::testing {

namespace fs = std::filesystem;

namespace {

Cluster* theCluster = nullptr;
std::string theSkipReason;

std::string randomToken() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof(bytes));
  std::string hex;
  for (unsigned char b : bytes) {
    static const char* digits = "0123456789abcdef";
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

std::string versionsWanted() {
  const char* wanted = std::getenv("PODMORTEM_KUBE_VERSIONS");
  return wanted != nullptr && *wanted ? wanted : "1.26";
}

// The cluster objects every test relies on: CRDs, podmortem's namespace and its shipped RBAC.
void applyShipped(KubeApiserver& api, bool knowsCel) {
  std::string crds = readFile(sourcePath("crds/podmortem.io_forensicpolicies.yaml")) + "\n---\n" +
                     readFile(sourcePath("crds/podmortem.io_evidencesnapshots.yaml")) + "\n---\n" +
                     readFile(sourcePath("crds/podmortem.io_evidencedownloads.yaml"));
  // A 1.21 server refuses the CEL rules (x-kubernetes-validations) in a server-side apply and
  // drops them in a plain create: README, "Kubernetes versions".
  for (const auto& answer : knowsCel ? api.apply(crds) : api.create(crds)) {
    if (!accepted(answer.status)) {
      throw std::runtime_error("installing the CRDs: " + std::to_string(answer.status) + " " +
                               answer.body);
    }
  }
  std::string objects;
  for (const char* file :
       {"manifests/base/namespace.yaml", "manifests/rbac/service_account.yaml",
        "manifests/rbac/manager_cluster_role.yaml", "manifests/rbac/manager_cluster_role_binding.yaml",
        "manifests/rbac/manager_role.yaml", "manifests/rbac/manager_role_binding.yaml",
        "manifests/rbac/viewer_cluster_role.yaml", "manifests/rbac/editor_cluster_role.yaml",
        "manifests/rbac/evidence_admin_cluster_role.yaml", "manifests/rbac/evidence_download_role.yaml"}) {
    objects += readFile(sourcePath(file)) + "\n---\n";
  }
  for (const auto& answer : api.apply(objects)) {
    if (!accepted(answer.status)) {
      throw std::runtime_error("applying the shipped objects: " + std::to_string(answer.status) +
                               " " + answer.body);
    }
  }
  for (const char* crd : {"forensicpolicies.podmortem.io", "evidencesnapshots.podmortem.io"}) {
    bool established = eventually([&] {
      auto object = api.request("GET", std::string("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/") + crd).json();
      for (const auto& condition : object["status"].value("conditions", nlohmann::json::array())) {
        if (condition["type"] == "Established" && condition["status"] == "True") return true;
      }
      return false;
    });
    if (!established) throw std::runtime_error(std::string(crd) + " did not become Established");
  }
}

}  // namespace

class ClusterEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    auto binaries = findEnvtestBinaries();
    if (binaries.whyMissing.empty() && std::getenv("KUBEBUILDER_ASSETS") == nullptr &&
        versionsWanted().find(binaries.version) == std::string::npos) {
      binaries.whyMissing = "Kubernetes " + binaries.version +
                            " runs only when PODMORTEM_KUBE_VERSIONS names it (now: \"" +
                            versionsWanted() + "\"; CI runs \"1.26 1.21\")";
    }
    if (!binaries.whyMissing.empty()) {
      theSkipReason = binaries.whyMissing;
      // CTest's SKIP_REGULAR_EXPRESSION: the whole run is reported skipped, with this reason.
      std::printf("KUBE-APISERVER TESTS SKIPPED: %s\n", theSkipReason.c_str());
      return;
    }
    cluster_ = std::make_unique<Cluster>();
    cluster_->setUp(binaries);
    theCluster = cluster_.get();
    std::printf("kube-apiserver %s ready at %s\n", cluster_->version().c_str(),
                cluster_->api().url().c_str());
  }

  void TearDown() override {
    theCluster = nullptr;
    cluster_.reset();
  }

 private:
  std::unique_ptr<Cluster> cluster_;
};

namespace {
[[maybe_unused]] auto* const registered =
    ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);
}  // namespace

Cluster* Cluster::instance() { return theCluster; }
const std::string& Cluster::skipReason() { return theSkipReason; }

void Cluster::setUp(const EnvtestBinaries& binaries) {
  dir_ = home_.path();
  version_ = binaries.version;
  podmortemPort_ = freeLoopbackPorts(1)[0];
  auditToken_ = randomToken();
  KubeApiserver::Options options;
  options.auditUrl = "https://127.0.0.1:" + std::to_string(podmortemPort_) + "/audit";
  options.auditToken = auditToken_;
  options.auditPolicyFile = sourcePath("manifests/audit/audit-policy.yaml").string();
  api_ = std::make_unique<KubeApiserver>(dir_ / "apiserver", binaries, options);
  // podmortem's serving certificate for the audit and admission webhooks, from the cluster CA.
  const std::string ca = (dir_ / "apiserver").string();
  auto made = runCommand(
      "cd " + dir_.string() + " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
      "extendedKeyUsage=serverAuth\\n' > podmortem.cnf && openssl req -newkey ec -pkeyopt "
      "ec_paramgen_curve:P-256 -nodes -keyout podmortem.key -out podmortem.csr -subj /CN=podmortem "
      "2>&1 && openssl x509 -req -in podmortem.csr -CA " + ca + "/ca.crt -CAkey " + ca +
      "/ca.key -CAcreateserial -out podmortem.crt -days 2 -extfile podmortem.cnf 2>&1");
  if (made.exitCode != 0) throw std::runtime_error("podmortem certificate: " + made.output);
  api_->start();
  applyShipped(*api_, atLeast126());
}

std::unique_ptr<ServerProcess> Cluster::podmortem(const fs::path& home, const std::string& extra,
                                                  bool onWebhookPort) {
  fs::create_directories(home);
  auto kubeconfig = api_->serviceAccountKubeconfig("podmortem-system", "podmortem");
  writeFile(home / "audit-token", auditToken_);
  std::string config =
      "kubernetes: {mode: kubeconfig, kubeconfig: " + kubeconfig.string() +
      ", namespace: podmortem-system, podName: " + home.filename().string() + "}\n"
      "audit: {auth: token, tokenFile: audit-token, window: 100000h}\n";
  if (onWebhookPort) {
    config += "listen: 127.0.0.1:" + std::to_string(podmortemPort_) + "\n" +
              "tls: {certFile: " + podmortemCertFile().string() + ", keyFile: " +
              podmortemKeyFile().string() + "}\n";
  }
  config += extra;
  return std::make_unique<ServerProcess>(home, config);
}

void Cluster::applyWebhookConfiguration(uint16_t port, const std::string& caBundlePem) {
  std::string text = readFile(sourcePath("manifests/webhook/validating_webhook_configuration.yaml"));
  const std::string service =
      "      service:\n        namespace: podmortem-system\n        name: podmortem\n"
      "        path: /validate\n        port: 443\n";
  auto at = text.find(service);
  if (at == std::string::npos) throw std::runtime_error("the shipped webhook uses no service");
  std::string clientConfig = "      url: https://127.0.0.1:" + std::to_string(port) + "/validate\n";
  if (!caBundlePem.empty()) {
    auto encoded = runCommand("printf '%s' '" + caBundlePem + "' | base64 -w0");
    clientConfig += "      caBundle: " + encoded.output + "\n";
  }
  text.replace(at, service.size(), clientConfig);
  for (const auto& answer : api_->apply(text)) {
    if (answer.status != 200 && answer.status != 201) {
      throw std::runtime_error("webhook configuration: " + answer.body);
    }
  }
}

::testing::AssertionResult Cluster::waitFor(const std::function<bool()>& condition,
                                            const std::string& what,
                                            std::chrono::milliseconds timeout) {
  if (eventually(condition, timeout)) return ::testing::AssertionSuccess();
  auto* cluster = instance();
  return ::testing::AssertionFailure()
         << "timed out waiting for " << what
         << (cluster != nullptr ? "\nkube-apiserver log tail:\n" + cluster->api().log() : "");
}

}  // namespace podmortem::testing
