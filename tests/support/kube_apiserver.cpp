#include "kube_apiserver.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include "test_support.h"

namespace podmortem::testing {

namespace fs = std::filesystem;

namespace {

bool executable(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

std::string onPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string rest = path != nullptr ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= rest.size();) {
    size_t colon = rest.find(':', start);
    if (colon == std::string::npos) colon = rest.size();
    fs::path candidate = fs::path(rest.substr(start, colon - start)) / program;
    if (executable(candidate)) return candidate.string();
    start = colon + 1;
  }
  return {};
}

void run(const std::string& command) {
  auto result = runCommand(command);
  if (result.exitCode != 0) {
    throw std::runtime_error("`" + command + "` failed:\n" + result.output);
  }
}

std::string base64File(const fs::path& file) {
  auto result = runCommand("base64 -w0 " + file.string());
  if (result.exitCode != 0) throw std::runtime_error("base64 " + file.string());
  return result.output;
}

// Kinds the tests apply: their resource name and whether they live in a namespace.
struct ResourceName {
  const char* plural;
  bool namespaced;
};
const std::map<std::string, ResourceName>& resources() {
  static const std::map<std::string, ResourceName> table = {
      {"Namespace", {"namespaces", false}},
      {"ServiceAccount", {"serviceaccounts", true}},
      {"Secret", {"secrets", true}},
      {"ConfigMap", {"configmaps", true}},
      {"Service", {"services", true}},
      {"Pod", {"pods", true}},
      {"Node", {"nodes", false}},
      {"ReplicationController", {"replicationcontrollers", true}},
      {"ReplicaSet", {"replicasets", true}},
      {"Job", {"jobs", true}},
      {"CronJob", {"cronjobs", true}},
      {"PersistentVolumeClaim", {"persistentvolumeclaims", true}},
      {"Role", {"roles", true}},
      {"RoleBinding", {"rolebindings", true}},
      {"ClusterRole", {"clusterroles", false}},
      {"ClusterRoleBinding", {"clusterrolebindings", false}},
      {"Deployment", {"deployments", true}},
      {"StatefulSet", {"statefulsets", true}},
      {"PodDisruptionBudget", {"poddisruptionbudgets", true}},
      {"NetworkPolicy", {"networkpolicies", true}},
      {"Lease", {"leases", true}},
      {"ValidatingWebhookConfiguration", {"validatingwebhookconfigurations", false}},
      {"CustomResourceDefinition", {"customresourcedefinitions", false}},
      {"ForensicPolicy", {"forensicpolicies", false}},
      {"EvidenceSnapshot", {"evidencesnapshots", true}},
      {"ServiceMonitor", {"servicemonitors", true}},
      {"PrometheusRule", {"prometheusrules", true}},
      {"Certificate", {"certificates", true}},
      {"Issuer", {"issuers", true}},
  };
  return table;
}

}  // namespace

EnvtestBinaries findEnvtestBinaries() {
  EnvtestBinaries found;
  if (const char* assets = std::getenv("KUBEBUILDER_ASSETS"); assets != nullptr && *assets) {
    found.apiserver = (fs::path(assets) / "kube-apiserver").string();
    found.etcd = (fs::path(assets) / "etcd").string();
    found.version = "from KUBEBUILDER_ASSETS";
    if (!executable(found.apiserver) || !executable(found.etcd)) {
      found.whyMissing = "KUBEBUILDER_ASSETS=" + std::string(assets) +
                         " lacks an executable kube-apiserver or etcd";
    }
    return found;
  }
  const char* wanted = std::getenv("PODMORTEM_KUBE_VERSION");
  found.version = wanted != nullptr && *wanted ? wanted : "1.26";
  found.apiserver = (fs::path(PODMORTEM_ENVTEST_DIR) / ("kube-apiserver-" + found.version)).string();
  found.etcd = onPath("etcd");
  if (!executable(found.apiserver)) {
    found.whyMissing = "no kube-apiserver " + found.version + " at " + found.apiserver +
                       " (it is unpacked from ../shared/envtest/ at build time; set "
                       "PODMORTEM_ENVTEST_SOURCE_DIR, or KUBEBUILDER_ASSETS to a folder with "
                       "kube-apiserver and etcd)";
  } else if (found.etcd.empty()) {
    found.whyMissing = "no etcd on PATH (Debian: etcd-server; scripts/install-deps.sh installs it)";
  }
  return found;
}

nlohmann::json ApiResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

KubeApiserver::KubeApiserver(fs::path dir, EnvtestBinaries binaries, Options options)
    : dir_(std::move(dir)), binaries_(std::move(binaries)), options_(std::move(options)) {
  fs::create_directories(dir_);
  auto ports = freeLoopbackPorts(3);
  etcdPort_ = ports[0];
  peerPort_ = ports[1];
  port_ = ports[2];
  makeCertificates();
}

KubeApiserver::~KubeApiserver() {
  clients_.clear();
  apiserver_.stop(std::chrono::seconds(5));
  etcd_.stop(std::chrono::seconds(5));
}

void KubeApiserver::makeCertificates() {
  writeFile(dir_ / "openssl.cnf",
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
            "[ca]\nbasicConstraints = critical, CA:TRUE\n"
            "keyUsage = critical, keyCertSign, cRLSign, digitalSignature\n"
            "[serving]\nbasicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:kubernetes.default.svc\n"
            "[client]\nbasicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = clientAuth\n");
  const std::string d = dir_.string();
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
  run("cd " + d + " && openssl req -x509" + ec + "-keyout ca.key -out ca.crt -days 2 "
      "-subj /CN=envtest-ca -config openssl.cnf -extensions ca 2>&1");
  run("cd " + d + " && openssl req" + ec + "-keyout serving.key -out serving.csr "
      "-subj /CN=kube-apiserver -config openssl.cnf 2>&1 && openssl x509 -req -in serving.csr "
      "-CA ca.crt -CAkey ca.key -CAcreateserial -out serving.crt -days 2 -extfile openssl.cnf "
      "-extensions serving 2>&1");
  run("cd " + d + " && openssl genrsa -out sa.key 2048 2>&1 && openssl rsa -in sa.key -pubout "
      "-out sa.pub 2>&1");
}

std::vector<std::string> KubeApiserver::apiserverFlags() const {
  const std::string d = dir_.string();
  std::vector<std::string> flags = {
      "--etcd-servers=http://127.0.0.1:" + std::to_string(etcdPort_),
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      "--secure-port=" + std::to_string(port_),
      "--cert-dir=" + d + "/kas-certs",
      "--tls-cert-file=" + d + "/serving.crt",
      "--tls-private-key-file=" + d + "/serving.key",
      "--client-ca-file=" + d + "/ca.crt",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--service-account-key-file=" + d + "/sa.pub",
      "--service-account-signing-key-file=" + d + "/sa.key",
      "--service-cluster-ip-range=10.96.0.0/12",  // kubeadm's and kind's; overlays/kind pins an IP in it
      "--authorization-mode=RBAC",
      "--allow-privileged=true",
      "--disable-admission-plugins=ServiceAccount",
  };
  if (!options_.auditUrl.empty()) {
    writeFile(dir_ / "audit-webhook.kubeconfig",
              "apiVersion: v1\nkind: Config\nclusters:\n- name: podmortem\n  cluster:\n"
              "    server: " + options_.auditUrl + "\n    certificate-authority-data: " +
                  base64File(options_.auditCaFile) + "\n"
              "users:\n- name: apiserver\n  user:\n    token: " + options_.auditToken + "\n"
              "contexts:\n- name: podmortem\n  context: {cluster: podmortem, user: apiserver}\n"
              "current-context: podmortem\n");
    flags.push_back("--audit-policy-file=" + options_.auditPolicyFile);
    flags.push_back("--audit-webhook-config-file=" + d + "/audit-webhook.kubeconfig");
    flags.push_back("--audit-webhook-mode=batch");
    flags.push_back("--audit-webhook-batch-max-wait=1s");
  }
  return flags;
}

void KubeApiserver::start() {
  const std::string d = dir_.string();
  if (!etcd_.running()) {
    etcd_.start(binaries_.etcd,
                {"--name", "default", "--data-dir", d + "/etcd-data", "--listen-client-urls",
                 "http://127.0.0.1:" + std::to_string(etcdPort_), "--advertise-client-urls",
                 "http://127.0.0.1:" + std::to_string(etcdPort_), "--listen-peer-urls",
                 "http://127.0.0.1:" + std::to_string(peerPort_), "--initial-advertise-peer-urls",
                 "http://127.0.0.1:" + std::to_string(peerPort_), "--initial-cluster",
                 "default=http://127.0.0.1:" + std::to_string(peerPort_)},
                dir_ / "etcd.log");
  }
  apiserver_.start(binaries_.apiserver, apiserverFlags(), dir_ / "kube-apiserver.log");
  bool ready = eventually(
      [this] {
        if (!apiserver_.running()) throw std::runtime_error("kube-apiserver exited:\n" + log());
        try {
          return request("GET", "/readyz").status == 200;
        } catch (const std::exception&) {
          return false;  // not listening yet
        }
      },
      std::chrono::seconds(90));
  if (!ready) throw std::runtime_error("kube-apiserver not ready after 90 s:\n" + log());
}

void KubeApiserver::stopApiserver() {
  clients_.clear();
  apiserver_.stop(std::chrono::seconds(10));
}

void KubeApiserver::restartApiserver() {
  stopApiserver();
  start();
}

std::string KubeApiserver::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

std::string KubeApiserver::caFile() const { return (dir_ / "ca.crt").string(); }

std::string KubeApiserver::log() const {
  fs::path file = dir_ / "kube-apiserver.log";
  if (!fs::exists(file)) return {};
  std::string text = readFile(file);
  return text.size() > 8000 ? text.substr(text.size() - 8000) : text;
}

fs::path KubeApiserver::userKubeconfig(const std::string& user,
                                       const std::vector<std::string>& groups) {
  fs::path config = dir_ / ("kubeconfig-" + user);
  if (fs::exists(config)) return config;
  std::string subject = "/CN=" + user;
  for (const auto& group : groups) subject = "/O=" + group + subject;
  const std::string d = dir_.string();
  run("cd " + d + " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
      user + ".key -out " + user + ".csr -subj '" + subject + "' -config openssl.cnf 2>&1 && " +
      "openssl x509 -req -in " + user + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -out " +
      user + ".crt -days 2 -extfile openssl.cnf -extensions client 2>&1");
  writeFile(config,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: envtest\n  cluster:\n    server: " +
                url() + "\n    certificate-authority: " + caFile() + "\n"
                "users:\n- name: " + user + "\n  user:\n    client-certificate: " + d + "/" +
                user + ".crt\n    client-key: " + d + "/" + user + ".key\n"
                "contexts:\n- name: envtest\n  context: {cluster: envtest, user: " + user + "}\n"
                "current-context: envtest\n");
  return config;
}

fs::path KubeApiserver::serviceAccountKubeconfig(const std::string& namespaceName,
                                                 const std::string& name) {
  auto answer = request("POST",
                        "/api/v1/namespaces/" + namespaceName + "/serviceaccounts/" + name + "/token",
                        R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",)"
                        R"("spec":{"expirationSeconds":3600}})");
  if (answer.status != 201) {
    throw std::runtime_error("TokenRequest for " + namespaceName + "/" + name + ": " +
                             std::to_string(answer.status) + " " + answer.body);
  }
  std::string token = answer.json()["status"]["token"];
  fs::path config = dir_ / ("kubeconfig-sa-" + namespaceName + "-" + name);
  writeFile(config,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: envtest\n  cluster:\n    server: " +
                url() + "\n    certificate-authority: " + caFile() + "\n"
                "users:\n- name: " + name + "\n  user:\n    token: " + token + "\n"
                "contexts:\n- name: envtest\n  context: {cluster: envtest, user: " + name +
                ", namespace: " + namespaceName + "}\ncurrent-context: envtest\n");
  return config;
}

HttpClient& KubeApiserver::clientFor(const std::string& user) {
  for (auto& [name, client] : clients_) {
    if (name == user) return *client;
  }
  if (user != "admin" && !fs::exists(dir_ / (user + ".crt"))) {
    throw std::logic_error("no client certificate for " + user + ": call userKubeconfig first");
  }
  if (user == "admin") adminKubeconfig();
  clients_.emplace_back(user, std::make_unique<HttpClient>(
                                  port_, ClientOptions{caFile(), (dir_ / (user + ".crt")).string(),
                                                       (dir_ / (user + ".key")).string()}));
  return *clients_.back().second;
}

ApiResponse KubeApiserver::request(const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& contentType,
                                   const std::string& user) {
  auto response = clientFor(user).request(method, path, body, body.empty() ? "" : contentType,
                                          {{"Accept", "application/json"}});
  return {response.status, response.body};
}

std::string KubeApiserver::pathOf(const nlohmann::json& object) {
  const std::string apiVersion = object.value("apiVersion", "");
  const std::string kind = object.value("kind", "");
  auto known = resources().find(kind);
  if (known == resources().end()) throw std::logic_error("no resource name for kind " + kind);
  std::string path = apiVersion.find('/') == std::string::npos ? "/api/" + apiVersion
                                                               : "/apis/" + apiVersion;
  const auto& metadata = object.value("metadata", nlohmann::json::object());
  if (known->second.namespaced) {
    path += "/namespaces/" + metadata.value("namespace", std::string("default"));
  }
  return path + "/" + known->second.plural + "/" + metadata.value("name", std::string());
}

namespace {

// The documents of a YAML stream as their own text (re-emitting a parsed node would lose the
// quotes that keep "true" a string).
std::vector<std::string> documentsOf(const std::string& yaml) {
  std::vector<std::string> documents(1);
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    std::string_view line(yaml.data() + start, end - start);
    if (line == "---" || line.rfind("--- ", 0) == 0) {
      documents.emplace_back();
    } else {
      documents.back().append(line).push_back('\n');
    }
    start = end + 1;
  }
  return documents;
}

}  // namespace

namespace {

// apiVersion, kind, name and namespace of a YAML document: enough for its path.
std::optional<nlohmann::json> identityOf(const std::string& text) {
  YAML::Node document = YAML::Load(text);
  if (!document.IsMap()) return std::nullopt;
  return nlohmann::json{
      {"apiVersion", document["apiVersion"].as<std::string>("")},
      {"kind", document["kind"].as<std::string>("")},
      {"metadata",
       {{"name", document["metadata"]["name"].as<std::string>("")},
        {"namespace", document["metadata"]["namespace"].as<std::string>("default")}}}};
}

}  // namespace

std::vector<ApiResponse> KubeApiserver::create(const std::string& yaml) {
  std::vector<ApiResponse> answers;
  for (const std::string& text : documentsOf(yaml)) {
    auto object = identityOf(text);
    if (!object) continue;
    std::string path = pathOf(*object);
    answers.push_back(request("POST", path.substr(0, path.rfind('/')), text, "application/yaml"));
  }
  return answers;
}

std::vector<ApiResponse> KubeApiserver::apply(const std::string& yaml, bool dryRun) {
  std::vector<ApiResponse> answers;
  for (const std::string& text : documentsOf(yaml)) {
    auto object = identityOf(text);
    if (!object) continue;
    answers.push_back(request("PATCH",
                              pathOf(*object) + "?fieldManager=podmortem-tests&force=true" +
                                  (dryRun ? "&dryRun=All" : ""),
                              text, "application/apply-patch+yaml"));
  }
  return answers;
}

}  // namespace podmortem::testing
