// The real API server calls podmortem: admission (the shipped webhook configuration, with a url)
// and audit (its webhook backend, batches of at most 1 s). An attacker execs into a protected
// pod and deletes it; dry runs, evictions and an API server restart follow. podmortem runs as its
// own service account with only the shipped RBAC (and the opt-in quarantine role).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "cluster.h"
#include "kube_checks.h"
#include "podmortem/core/sha256.h"
#include "s3_server.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr const char* kProtectShop = R"(apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata:
  name: protect-shop
spec:
  match:
    namespaces: [shop]
  triggers:
    - {name: on-delete, source: admission, operations: [DELETE], resources: [pods]}
    - {name: on-eviction, source: admission, operations: [CREATE], resources: [pods/eviction]}
  actions:
    snapshot:
      collectors: [pod, auditTrail, logs, events]
      holdDeletion: 10s
    labels:
      podmortem.io/suspect: "true"
    quarantine: true
)";

// mallory may exec into, delete and evict pods in shop: what an attacker with a stolen
// developer credential can do.
constexpr const char* kShop = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: developer, namespace: shop}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, delete]
  - apiGroups: [""]
    resources: [pods/exec]
    verbs: [create, get]
  - apiGroups: [""]
    resources: [pods/eviction]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mallory-developer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: developer}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: mallory}
)";

// A pod bound to a node: with no kubelet it never runs, and a graceful delete leaves it
// Terminating, as a real one is while its containers stop.
std::string pod(const std::string& name) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\n  namespace: shop\n  labels: {app: web}\nspec:\n  nodeName: node-1\n"
         "  containers:\n    - {name: web, image: nginx:1.25}\n";
}

class WebhookFlow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto* cluster = Cluster::instance();
    if (cluster == nullptr) return;
    auto& api = cluster->api();
    // A holder left by an earlier test would keep the Lease (and policy status) for its duration.
    api.request("DELETE", "/apis/coordination.k8s.io/v1/namespaces/podmortem-system/leases/podmortem-leader");
    std::string objects = readFile(sourcePath("manifests/rbac/quarantine/quarantine_cluster_role.yaml")) +
                          "\n---\n" +
                          readFile(sourcePath("manifests/rbac/quarantine/quarantine_cluster_role_binding.yaml")) +
                          "\n---\n" + kShop + "\n---\n" + kProtectShop;
    for (const auto& answer : api.apply(objects)) {
      ASSERT_TRUE(accepted(answer.status)) << answer.body;
    }
    api.userKubeconfig("mallory", {"developers"});
    dir_ = new TempDir();
    // Sealed bundles also go to a real S3-compatible store (evidence.store: s3).
    s3_ = new S3Server();
    podmortem_ = cluster->podmortem(dir_->path() / "podmortem-0",
                                    "kubernetes: {statusInterval: 1s}\n"
                                    "leaderElection: {leaseDuration: 4s, retryPeriod: 500ms}\n"
                                    "evidence: {dir: evidence, store: s3, s3: {endpoint: " + s3_->endpoint() +
                                        ", bucket: evidence, prefix: podmortem, credentialsFile: " +
                                        s3_->credentialsFile().string() + ", maxBackoff: 500ms}}\n",
                                    true)
                     .release();
    podmortem_->start();
    cluster->applyWebhookConfiguration(cluster->podmortemPort(), readFile(api.caFile()));
    ASSERT_TRUE(Cluster::waitFor(
        [] {
          try {
            return podmortem_->metricsClient().get("/readyz").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        "podmortem ready"))
        << podmortem_->log();
  }

  static void TearDownTestSuite() {
    delete podmortem_;
    podmortem_ = nullptr;
    delete dir_;
    dir_ = nullptr;
    delete s3_;
    s3_ = nullptr;
  }

  void SetUp() override { REQUIRE_CLUSTER(); }

  static KubeApiserver& api() { return Cluster::instance()->api(); }

  static std::vector<fs::path> bundlesOf(const std::string& podName) {
    std::vector<fs::path> found;
    fs::path dir = podmortem_->evidenceDir() / "shop" / podName;
    if (!fs::exists(dir)) return found;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (fs::exists(entry.path() / "manifest.json")) found.push_back(entry.path());
    }
    return found;
  }

  static nlohmann::json getPod(const std::string& name) {
    return api().request("GET", "/api/v1/namespaces/shop/pods/" + name).json();
  }

  static void createPod(const std::string& name) {
    auto created = api().apply(pod(name)).at(0);
    ASSERT_TRUE(accepted(created.status)) << created.body;
  }

  static TempDir* dir_;
  static S3Server* s3_;
  static ServerProcess* podmortem_;
};

TempDir* WebhookFlow::dir_ = nullptr;
S3Server* WebhookFlow::s3_ = nullptr;
ServerProcess* WebhookFlow::podmortem_ = nullptr;

TEST_F(WebhookFlow, AnExecThenADeleteIsCapturedWithTheWarningTheTrailAndTheRecord) {
  createPod("web");
  // The exec fails for want of a kubelet, but admission and audit see it first.
  auto exec = api().request("POST", "/api/v1/namespaces/shop/pods/web/exec?command=sh&stdin=true&stdout=true&tty=true",
                            "", "", "mallory");
  EXPECT_GE(exec.status, 400u) << "no kubelet answers an exec here";

  HttpClient mallory(api().port(), ClientOptions{api().caFile(), (api().dir() / "mallory.crt").string(),
                                                  (api().dir() / "mallory.key").string()});
  auto deletion = mallory.request("DELETE", "/api/v1/namespaces/shop/pods/web", "", "");
  ASSERT_EQ(deletion.status, 200u) << deletion.body;
  std::string warning = deletion.headers["warning"];
  EXPECT_NE(warning.find("podmortem: evidence snapshot"), std::string::npos)
      << "the API server passes podmortem's warning on to the client: " << warning;

  auto bundles = bundlesOf("web");
  ASSERT_EQ(bundles.size(), 1u) << podmortem_->log();
  const fs::path bundle = bundles[0];
  auto manifest = nlohmann::json::parse(readFile(bundle / "manifest.json"));
  EXPECT_EQ(manifest["phase"], "Partial") << "logs cannot be read without a kubelet";
  auto podJson = nlohmann::json::parse(readFile(bundle / "pod.json"));
  EXPECT_EQ(podJson["metadata"]["name"], "web");
  EXPECT_EQ(podJson["spec"]["nodeName"], "node-1") << "the pod as the API server sent it";
  std::string trail = readFile(bundle / "audit-trail.jsonl");
  EXPECT_NE(trail.find("\"subresource\":\"exec\""), std::string::npos) << trail;
  EXPECT_NE(trail.find("mallory"), std::string::npos);
  std::string logsError;
  for (const auto& artifact : manifest["artifacts"]) {
    if (artifact.value("collector", "") == "logs") logsError += artifact.value("error", "");
  }
  EXPECT_FALSE(logsError.empty()) << "logs/ records why the logs are missing: " << manifest.dump(2);

  // The EvidenceSnapshot names the manifest by its SHA-256.
  const std::string id = bundle.filename().string();
  const std::string recordPath = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots/" + id;
  EXPECT_TRUE(Cluster::waitFor(
      [&] {
        return text(field(api().request("GET", recordPath).json(), {"status", "bundle", "manifestSHA256"})) ==
               core::sha256Hex(readFile(bundle / "manifest.json"));
      },
      "the EvidenceSnapshot with the manifest's SHA-256"))
      << podmortem_->log();
  // The policy counted it; the Terminating pod carries the suspect label; it is quarantined.
  EXPECT_TRUE(Cluster::waitFor(
      [&] {
        auto policy = api().request("GET", "/apis/podmortem.io/v1alpha1/forensicpolicies/protect-shop").json();
        auto matches = field(policy, {"status", "matches"});
        return matches.is_number() && matches.get<int64_t>() >= 1;
      },
      "the policy's match counter"));
  auto terminating = getPod("web");
  EXPECT_FALSE(text(field(terminating, {"metadata", "deletionTimestamp"})).empty());
  EXPECT_EQ(text(field(terminating, {"metadata", "labels", "podmortem.io/suspect"})), "true");
  auto policies = api().request("GET", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies").json();
  ASSERT_TRUE(policies.contains("items"));
  EXPECT_EQ(policies["items"].size(), 1u) << policies.dump(2);
}

// With evidence.store: s3 the sealed bundle goes to the store, and its EvidenceSnapshot's
// status.bundle.location becomes the s3:// URL, the same bytes as the volume's.
TEST_F(WebhookFlow, ABundleUploadedToS3IsWhereItsEvidenceSnapshotPoints) {
  createPod("stored");
  HttpClient mallory(api().port(), ClientOptions{api().caFile(), (api().dir() / "mallory.crt").string(),
                                                  (api().dir() / "mallory.key").string()});
  ASSERT_EQ(mallory.request("DELETE", "/api/v1/namespaces/shop/pods/stored", "", "").status, 200u);
  auto bundles = bundlesOf("stored");
  ASSERT_EQ(bundles.size(), 1u) << podmortem_->log();
  const std::string id = bundles[0].filename().string();
  const std::string recordPath = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots/" + id;
  const std::string url = "s3://evidence/podmortem/shop/stored/" + id;
  std::string location;
  EXPECT_TRUE(Cluster::waitFor(
      [&] {
        location = text(field(api().request("GET", recordPath).json(), {"status", "bundle", "location"}));
        return location == url;
      },
      "status.bundle.location = " + url))
      << "location is " << location << "\n" << podmortem_->log();
  for (const char* file : {"manifest.json", "pod.json", "audit-trail.jsonl"}) {
    EXPECT_EQ(readFile(s3_->objectFile("podmortem/shop/stored/" + id + "/" + file)), readFile(bundles[0] / file))
        << file;
  }
  std::cout << "EvidenceSnapshot " << id << " status.bundle.location: " << location << " (s3rver "
            << S3Server::version() << ")\n";
}

// kubectl podmortem, found by the real kubectl on PATH, as an evidence admin and as a viewer: the
// admin's EvidenceDownload is answered with a token and the bundle arrives whole (its manifest as
// the EvidenceSnapshot recorded it); the viewer's create is refused by the API server (403); a
// token works once.
TEST_F(WebhookFlow, KubectlPodmortemDownloadsForAnEvidenceAdminAndTheApiServerRefusesAViewer) {
  ASSERT_NE(podmortem_->downloadPort(), 0) << podmortem_->log();
  for (const auto& answer : api().apply(R"(apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: evidence-admins, namespace: podmortem-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: podmortem-evidence-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: incident-response}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: evidence-viewers, namespace: podmortem-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: podmortem-viewer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: victor}]
)")) {
    ASSERT_TRUE(accepted(answer.status)) << answer.body;
  }
  const fs::path alice = api().userKubeconfig("alice", {"incident-response"});
  const fs::path victor = api().userKubeconfig("victor", {"auditors"});
  createPod("downloaded");
  HttpClient mallory(api().port(), ClientOptions{api().caFile(), (api().dir() / "mallory.crt").string(),
                                                  (api().dir() / "mallory.key").string()});
  ASSERT_EQ(mallory.request("DELETE", "/api/v1/namespaces/shop/pods/downloaded", "", "").status, 200u);
  auto bundles = bundlesOf("downloaded");
  ASSERT_EQ(bundles.size(), 1u) << podmortem_->log();
  const std::string id = bundles[0].filename().string();
  const std::string recordPath = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots/" + id;
  ASSERT_TRUE(Cluster::waitFor(
      [&] { return !text(field(api().request("GET", recordPath).json(), {"status", "bundle", "manifestSHA256"})).empty(); },
      "the EvidenceSnapshot's manifest digest"));

  // The real kubectl finds the plugin on PATH.
  const std::string pluginDir = fs::path(KUBECTL_PODMORTEM_BINARY).parent_path().string();
  TempDir out;
  auto kubectl = [&](const fs::path& kubeconfig, const std::string& arguments) {
    return runCommand("PATH=" + pluginDir + ":$PATH KUBECONFIG=" + kubeconfig.string() + " kubectl podmortem " +
                      arguments + " 2>&1");
  };
  const std::string direct = " --podmortem-url https://127.0.0.1:" + std::to_string(podmortem_->downloadPort()) +
                             " --ca-file " + api().caFile();
  auto listed = kubectl(alice, "list");
  EXPECT_EQ(listed.exitCode, 0) << listed.output;
  EXPECT_NE(listed.output.find(id + "  shop/downloaded"), std::string::npos) << listed.output;

  auto got = kubectl(alice, "get " + id + " -o " + out.path().string() + direct);
  ASSERT_EQ(got.exitCode, 0) << got.output << podmortem_->log();
  EXPECT_NE(got.output.find("manifest.json matches the EvidenceSnapshot's SHA-256"), std::string::npos) << got.output;
  EXPECT_EQ(readFile(out.path() / id / "manifest.json"), readFile(bundles[0] / "manifest.json"));
  EXPECT_EQ(readFile(out.path() / id / "pod.json"), readFile(bundles[0] / "pod.json"));
  auto verified = runCommand(std::string(PODMORTEM_BINARY) + " verify " + (out.path() / id).string() + " 2>&1");
  EXPECT_EQ(verified.exitCode, 0) << verified.output;
  auto pluginVerify = kubectl(alice, "verify " + id + direct);
  EXPECT_EQ(pluginVerify.exitCode, 0) << pluginVerify.output;
  EXPECT_NE(pluginVerify.output.find("INTACT: snapshot " + id), std::string::npos) << pluginVerify.output;
  auto reported = kubectl(alice, "report " + id + " --out " + (out.path() / "r" / "report.html").string() + direct);
  EXPECT_EQ(reported.exitCode, 0) << reported.output;
  EXPECT_NE(readFile(out.path() / "r" / "report.html").find("<h2>Intact</h2>"), std::string::npos);

  auto refused = kubectl(victor, "get " + id + " -o " + out.path().string() + direct);
  EXPECT_EQ(refused.exitCode, 1) << refused.output;
  EXPECT_NE(refused.output.find("403"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("evidencedownloads"), std::string::npos) << refused.output;
  std::cout << "kubectl podmortem get as alice (podmortem-evidence-admin):\n" << got.output
            << "kubectl podmortem get as victor (podmortem-viewer):\n" << refused.output;

  // One token, two GETs: the second is refused.
  auto created = api().request("POST", "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencedownloads",
                               R"({"apiVersion":"podmortem.io/v1alpha1","kind":"EvidenceDownload",)"
                               R"("metadata":{"generateName":"once-"},"spec":{"snapshot":")" + id + R"("}})",
                               "application/json", "alice");
  ASSERT_EQ(created.status, 201u) << created.body;
  const std::string downloadPath = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencedownloads/" +
                                   text(field(created.json(), {"metadata", "name"}));
  nlohmann::json status;
  ASSERT_TRUE(Cluster::waitFor(
      [&] {
        status = field(api().request("GET", downloadPath, "", "application/json", "alice").json(), {"status"});
        return text(field(status, {"phase"})) == "Ready";
      },
      "the EvidenceDownload answered"));
  EXPECT_EQ(text(field(status, {"replica"})), "podmortem-0");
  EXPECT_EQ(text(field(status, {"proxyPath"})), "/api/v1/namespaces/podmortem-system/pods/https:podmortem-0:" +
                                                    std::to_string(podmortem_->downloadPort()) + "/proxy/evidence/" + id);
  const std::string token = text(field(status, {"token"}));
  auto fetch = [&](const std::string& path) {
    return runCommand("curl -s -o /dev/null -w '%{http_code}' --cacert " + api().caFile() + " -H 'X-Podmortem-Token: " +
                      token + "' https://127.0.0.1:" + std::to_string(podmortem_->downloadPort()) + path);
  };
  EXPECT_EQ(fetch("/evidence/0123456789abcdef0123456789abcdef").output, "401") << "a token is for its snapshot only";
  EXPECT_EQ(fetch("/evidence/" + id).output, "401") << "and the wrong-snapshot attempt spent it";
  auto again = api().request("POST", "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencedownloads",
                             R"({"apiVersion":"podmortem.io/v1alpha1","kind":"EvidenceDownload",)"
                             R"("metadata":{"generateName":"twice-"},"spec":{"snapshot":")" + id + R"("}})",
                             "application/json", "alice");
  ASSERT_EQ(again.status, 201u) << again.body;
  const std::string againPath = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencedownloads/" +
                                text(field(again.json(), {"metadata", "name"}));
  ASSERT_TRUE(Cluster::waitFor(
      [&] {
        status = field(api().request("GET", againPath, "", "application/json", "alice").json(), {"status"});
        return text(field(status, {"phase"})) == "Ready";
      },
      "the second EvidenceDownload answered"));
  const std::string second = text(field(status, {"token"}));
  auto get = [&](const std::string& with) {
    return runCommand("curl -s -o /dev/null -w '%{http_code}' --cacert " + api().caFile() + " -H 'X-Podmortem-Token: " +
                      with + "' https://127.0.0.1:" + std::to_string(podmortem_->downloadPort()) + "/evidence/" + id)
        .output;
  };
  EXPECT_EQ(get(second), "200");
  EXPECT_EQ(get(second), "401") << "a used token is refused";
  std::cout << "one token, GET twice: 200 then 401\n";
  auto metrics = podmortem_->metricsClient().get("/metrics").body;
  EXPECT_NE(metrics.find("podmortem_evidence_downloads_total{result=\"refused\"} 3"), std::string::npos) << metrics;
}

// The custody ledger's lines are anchored outside the volume, in the EvidenceSnapshots'
// status.custody: verify --against-cluster finds the last line removed, and a volume replaced.
TEST_F(WebhookFlow, TheLedgerIsAnchoredInTheEvidenceSnapshotsAndVerifyFindsItsLastLineRemoved) {
  HttpClient mallory(api().port(), ClientOptions{api().caFile(), (api().dir() / "mallory.crt").string(),
                                                  (api().dir() / "mallory.key").string()});
  for (const char* name : {"anchored-1", "anchored"}) {  // a ledger of two lines at least
    createPod(name);
    ASSERT_EQ(mallory.request("DELETE", std::string("/api/v1/namespaces/shop/pods/") + name, "", "").status, 200u);
  }
  auto bundles = bundlesOf("anchored");
  ASSERT_EQ(bundles.size(), 1u) << podmortem_->log();
  const std::string id = bundles[0].filename().string();
  const std::string recordPath = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots/" + id;
  const fs::path ledger = podmortem_->evidenceDir() / "custody.jsonl";
  nlohmann::json custody;
  ASSERT_TRUE(Cluster::waitFor(
      [&] {
        custody = field(api().request("GET", recordPath).json(), {"status", "custody"});
        return custody.is_object() && custody.contains("entrySHA256");
      },
      "status.custody of the EvidenceSnapshot"))
      << podmortem_->log();
  // The anchor is the hash of the snapshot's own ledger line.
  std::string lines = readFile(ledger);
  std::string line;
  for (size_t start = 0, end; (end = lines.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string candidate = lines.substr(start, end - start);
    if (candidate.find(id) != std::string::npos) line = candidate;
  }
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(text(custody["entrySHA256"]), core::sha256Hex(line));
  EXPECT_EQ(text(custody["ledger"]), core::sha256Hex(lines.substr(0, lines.find('\n'))));

  // A copy of the evidence as it is now (the server goes on appending to its own).
  TempDir copy;
  fs::copy(podmortem_->evidenceDir(), copy.path() / "evidence", fs::copy_options::recursive);
  const std::string verify = std::string(PODMORTEM_BINARY) + " verify --against-cluster --kubeconfig " +
                             api().adminKubeconfig().string() + " --namespace podmortem-system ";
  auto intact = runCommand(verify + (copy.path() / "evidence").string() + " 2>&1");
  EXPECT_EQ(intact.exitCode, 0) << intact.output;
  EXPECT_NE(intact.output.find("checked against the EvidenceSnapshots of replica \"podmortem-0\""),
            std::string::npos)
      << intact.output;

  // The attacker removes the ledger's last line (and the bundle it names): the chain alone
  // cannot tell, the anchor can.
  std::string copied = readFile(copy.path() / "evidence" / "custody.jsonl");
  copied.pop_back();
  std::string last = copied.substr(copied.rfind('\n') + 1);
  copied.erase(copied.rfind('\n') + 1);
  writeFile(copy.path() / "evidence" / "custody.jsonl", copied);
  auto lastEntry = nlohmann::json::parse(last);
  fs::remove_all(copy.path() / "evidence" / text(lastEntry["bundle"]));
  auto local = runCommand(std::string(PODMORTEM_BINARY) + " verify " + (copy.path() / "evidence").string() + " 2>&1");
  EXPECT_EQ(local.exitCode, 0) << "without the anchors the truncation is invisible: " << local.output;
  auto truncated = runCommand(verify + (copy.path() / "evidence").string() + " 2>&1");
  EXPECT_EQ(truncated.exitCode, 1) << truncated.output;
  EXPECT_NE(truncated.output.find("the ledger was truncated"), std::string::npos) << truncated.output;
  std::cout << "verify --against-cluster after the last ledger line was removed:\n" << truncated.output;

  // A replaced volume: an empty evidence folder.
  fs::create_directories(copy.path() / "empty");
  auto replaced = runCommand(verify + "--replica podmortem-0 " + (copy.path() / "empty").string() + " 2>&1");
  EXPECT_EQ(replaced.exitCode, 1) << replaced.output;
  EXPECT_NE(replaced.output.find("it was emptied or the volume replaced"), std::string::npos) << replaced.output;
}

TEST_F(WebhookFlow, ADryRunDeleteCapturesNothing) {
  createPod("dry");
  auto dryRun = api().request("DELETE", "/api/v1/namespaces/shop/pods/dry?dryRun=All");
  ASSERT_EQ(dryRun.status, 200u) << dryRun.body;
  EXPECT_TRUE(bundlesOf("dry").empty());
  EXPECT_TRUE(text(field(getPod("dry"), {"metadata", "deletionTimestamp"})).empty());
}

TEST_F(WebhookFlow, AnEvictionIsCaptured) {
  createPod("evicted");
  // policy/v1 Evictions came with 1.22; 1.21 takes policy/v1beta1.
  const std::string version = Cluster::instance()->atLeast126() ? "policy/v1" : "policy/v1beta1";
  auto eviction = api().request(
      "POST", "/api/v1/namespaces/shop/pods/evicted/eviction",
      R"({"apiVersion":")" + version +
          R"(","kind":"Eviction","metadata":{"name":"evicted","namespace":"shop"}})",
      "application/json", "mallory");
  ASSERT_TRUE(accepted(eviction.status)) << eviction.body;
  auto bundles = bundlesOf("evicted");
  ASSERT_EQ(bundles.size(), 1u) << podmortem_->log();
  auto manifest = nlohmann::json::parse(readFile(bundles[0] / "manifest.json"));
  EXPECT_EQ(manifest["trigger"]["resource"], "pods/eviction");
}

TEST_F(WebhookFlow, AfterAnApiServerRestartWatchesResumeAndNothingIsCapturedTwice) {
  createPod("restart");
  ASSERT_EQ(api().request("DELETE", "/api/v1/namespaces/shop/pods/restart").status, 200u);
  ASSERT_EQ(bundlesOf("restart").size(), 1u);
  // Checked before the restart: a restarted 1.21 server may refuse (403) for a moment, until
  // its RBAC caches are filled, though /readyz already says ready.
  expectNoAuthorizationErrors(*podmortem_);

  Cluster::instance()->api().restartApiserver();
  // A policy changed after the restart is seen: the watch came back.
  std::string changed = kProtectShop;
  changed.replace(changed.find("holdDeletion: 10s"), 17, "holdDeletion: 12s");
  ASSERT_TRUE(accepted(api().apply(changed).at(0).status));
  EXPECT_TRUE(Cluster::waitFor(
      [&] {
        auto policy = api().request("GET", "/apis/podmortem.io/v1alpha1/forensicpolicies/protect-shop").json();
        auto generation = field(policy, {"metadata", "generation"});
        auto observed = field(policy, {"status", "observedGeneration"});
        return !generation.is_null() && generation == observed;
      },
      "the policy change seen after the restart", seconds(30)))
      << podmortem_->log();
  // The force delete that follows the graceful one is the same deletion: the same snapshot.
  auto force = api().request("DELETE", "/api/v1/namespaces/shop/pods/restart",
                             R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})");
  ASSERT_EQ(force.status, 200u) << force.body;
  EXPECT_EQ(bundlesOf("restart").size(), 1u) << "nothing captured twice";
}

}  // namespace
}  // namespace podmortem::testing
