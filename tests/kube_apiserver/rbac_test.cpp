// Least privilege, sufficient and necessary: with the shipped roles every behaviour of podmortem
// in a cluster works without a refusal; with any one rule removed, at least one stops working.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "cluster.h"
#include "kube_checks.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// RBAC objects hold strings and lists and maps of them only.
nlohmann::json toJson(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& item : node) object[item.first.as<std::string>()] = toJson(item.second);
    return object;
  }
  if (node.IsSequence()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : node) list.push_back(toJson(item));
    return list;
  }
  return node.IsNull() ? nlohmann::json() : nlohmann::json(node.as<std::string>());
}

struct ShippedRole {
  std::string file;
  nlohmann::json object;
};

std::vector<ShippedRole> shippedRoles() {
  std::vector<ShippedRole> roles;
  for (const char* file : {"manifests/rbac/manager_cluster_role.yaml", "manifests/rbac/manager_role.yaml"}) {
    roles.push_back({file, toJson(YAML::Load(readFile(sourcePath(file))))});
  }
  return roles;
}

std::string describe(const nlohmann::json& rule) {
  std::string text;
  auto join = [](const nlohmann::json& list) {
    std::string out;
    for (const auto& item : list) out += (out.empty() ? "" : ",") + item.get<std::string>();
    return out;
  };
  text += join(rule.value("verbs", nlohmann::json::array())) + " ";
  std::string group = rule["apiGroups"].empty() ? "" : rule["apiGroups"][0].get<std::string>();
  text += (group.empty() ? "" : group + "/") + join(rule.value("resources", nlohmann::json::array()));
  if (rule.contains("resourceNames")) text += " (" + join(rule["resourceNames"]) + ")";
  return text;
}

bool mentionsRefusal(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  // The API server's 403 Status always says "forbidden"; a bare "403" could be part of a uid.
  return text.find("forbidden") != std::string::npos;
}

// Objects for the collectors to find: a pod owned by a ReplicaSet of a Deployment, one by a Job
// of a CronJob, one by a ReplicationController; their node and service account.
constexpr const char* kWorkloads = R"(apiVersion: v1
kind: Namespace
metadata: {name: rbac-probe}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: rbac-probe}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: rbac-probe}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.25}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch, namespace: rbac-probe}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: job, image: busybox:1.36}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: rbac-probe}
spec:
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: legacy, image: nginx:1.25}]}
)";

constexpr const char* kProbePolicy = R"(apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata:
  name: rbac-probe
spec:
  match:
    namespaces: [rbac-probe]
  triggers:
    - {name: on-delete, source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot:
      collectors: [pod, owners, events, logs, node, serviceAccount]
      holdDeletion: 5s
    labels:
      podmortem.io/suspect: "true"
)";

class Rbac : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_CLUSTER();
    auto& api = Cluster::instance()->api();
    for (const auto& answer : api.apply(kWorkloads)) ASSERT_TRUE(accepted(answer.status)) << answer.body;
    // The owners a controller-manager would have made: a ReplicaSet of the Deployment, pods of
    // the ReplicaSet, the Job and the ReplicationController.
    auto uidOf = [&](const std::string& path) {
      return text(field(api.request("GET", path).json(), {"metadata", "uid"}));
    };
    std::string deployment = uidOf("/apis/apps/v1/namespaces/rbac-probe/deployments/web");
    ASSERT_TRUE(accepted(api.apply(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: rbac-probe\n"
        "  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: " + deployment +
        ", controller: true}]\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx:1.25}]}\n").at(0).status));
    owners_ = {{"apps/v1", "ReplicaSet", "web-1", uidOf("/apis/apps/v1/namespaces/rbac-probe/replicasets/web-1")},
               {"batch/v1", "Job", "batch", uidOf("/apis/batch/v1/namespaces/rbac-probe/jobs/batch")},
               {"v1", "ReplicationController", "legacy", uidOf("/api/v1/namespaces/rbac-probe/replicationcontrollers/legacy")}};
    cluster_ = Cluster::instance();
    cluster_->applyWebhookConfiguration(freeLoopbackPorts(1)[0]);
  }

  void TearDown() override {
    if (cluster_ == nullptr) return;
    for (const auto& role : shippedRoles()) restore(role);
  }

  void restore(const ShippedRole& role) {
    ASSERT_TRUE(accepted(cluster_->api().apply(role.object.dump()).at(0).status));
  }

  // Creates the three pods (again), as the owners' controllers would.
  void createPods() {
    auto& api = cluster_->api();
    for (size_t i = 0; i < owners_.size(); ++i) {
      const auto& owner = owners_[i];
      std::string name = "probe-" + std::to_string(i);
      api.request("DELETE", "/api/v1/namespaces/rbac-probe/pods/" + name,
                  R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})");
      auto created = api.apply(
          "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: rbac-probe\n"
          "  ownerReferences: [{apiVersion: " + owner[0] + ", kind: " + owner[1] + ", name: " +
          owner[2] + ", uid: " + owner[3] + ", controller: true}]\nspec:\n  nodeName: node-1\n"
          "  serviceAccountName: app\n  containers: [{name: app, image: nginx:1.25}]\n").at(0);
      ASSERT_TRUE(accepted(created.status)) << created.body;
    }
  }

  // Runs every behaviour once with a fresh podmortem; returns the ones that did not work.
  std::vector<std::string> probe(const std::string& name) {
    auto& api = cluster_->api();
    api.request("DELETE", "/apis/coordination.k8s.io/v1/namespaces/podmortem-system/leases/podmortem-leader");
    api.request("DELETE", "/api/v1/namespaces/podmortem-system/secrets/podmortem-webhook-tls");
    api.request("DELETE", "/apis/podmortem.io/v1alpha1/forensicpolicies/rbac-probe");
    EXPECT_TRUE(accepted(api.apply(kProbePolicy).at(0).status));
    createPods();
    TempDir dir;
    auto podmortem = cluster_->podmortem(
        dir.path() / ("probe-" + name),
        "tls: {manageSecret: true, webhookConfiguration: podmortem}\n"
        "kubernetes: {statusInterval: 500ms}\n"
        "leaderElection: {leaseDuration: 4s, retryPeriod: 300ms}\n",
        false);
    podmortem->start();

    std::vector<std::string> captured;
    eventually([&] {  // admission as the API server would send it, once podmortem has policies
      try {
        if (podmortem->metricsClient().get("/readyz").status != 200) return false;
      } catch (const std::exception&) {
        return false;
      }
      return true;
    }, std::chrono::seconds(4));
    // The webhook serves the certificate kept in the Secret; without it nothing can be sent.
    auto& secretData = eventuallySecretCa(api);
    if (secretData.empty()) return {"certificate Secret created (no webhook certificate to trust)"};
    fs::path caFile = dir.path() / "webhook-ca.crt";
    auto decoded = runCommand("printf '%s' '" + secretData + "' | base64 -d > " + caFile.string());
    if (decoded.exitCode != 0) return {"certificate Secret created (ca.crt is not base64)"};
    HttpClient webhook(podmortem->webhookPort(), ClientOptions{.caFile = caFile.string()});
    for (size_t i = 0; i < owners_.size(); ++i) {
      std::string pod = "probe-" + std::to_string(i);
      auto object = api.request("GET", "/api/v1/namespaces/rbac-probe/pods/" + pod).json();
      nlohmann::json review = {
          {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"},
          {"request", {{"uid", name + "-" + pod}, {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                       {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                       {"name", pod}, {"namespace", "rbac-probe"}, {"operation", "DELETE"},
                       {"userInfo", {{"username", "admin"}}}, {"oldObject", object}, {"dryRun", false}}}};
      try {
        webhook.post("/validate?timeout=10s", review.dump());
      } catch (const std::exception&) {
        // A refused connection shows below as the snapshot that was not recorded.
      }
    }

    std::map<std::string, bool> works;
    std::string download;  // the EvidenceDownload this probe asked for, once a snapshot is recorded
    auto check = [&] {
      works["readiness (ForensicPolicies and Namespaces listed and watched)"] =
          podmortem->metricsClient().get("/readyz").status == 200;
      auto policy = api.request("GET", "/apis/podmortem.io/v1alpha1/forensicpolicies/rbac-probe").json();
      works["policy status written"] = !field(policy, {"status", "observedGeneration"}).is_null();
      works["leader Lease held"] =
          text(field(api.request("GET", "/apis/coordination.k8s.io/v1/namespaces/podmortem-system/leases/podmortem-leader").json(),
                     {"spec", "holderIdentity"})) == "probe-" + name;
      auto secret = api.request("GET", "/api/v1/namespaces/podmortem-system/secrets/podmortem-webhook-tls").json();
      std::string ca = text(field(secret, {"data", "ca.crt"}));
      works["certificate Secret created"] = !ca.empty();
      auto webhook = api.request("GET", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/podmortem").json();
      auto hooks = field(webhook, {"webhooks"});
      works["caBundle written"] = !ca.empty() && hooks.is_array() &&
                                  text(field(hooks[0], {"clientConfig", "caBundle"})) == ca;
      auto records = api.request("GET", "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots?labelSelector=podmortem.io/policy=rbac-probe").json();
      size_t recorded = 0;
      size_t withStatus = 0;
      for (const auto& record : field(records, {"items"}).is_array() ? records["items"] : nlohmann::json::array()) {
        if (text(field(record, {"spec", "replica"})) != "probe-" + name) continue;
        ++recorded;
        std::string phase = text(field(record, {"status", "phase"}));
        if (phase == "Complete" || phase == "Partial" || phase == "Failed") ++withStatus;
      }
      works["EvidenceSnapshot created"] = recorded == owners_.size();
      // kubectl podmortem get: an EvidenceDownload of one of them, answered with a token.
      const std::string downloads = "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencedownloads";
      for (const auto& record : field(records, {"items"}).is_array() ? records["items"] : nlohmann::json::array()) {
        if (!download.empty() || text(field(record, {"spec", "replica"})) != "probe-" + name) continue;
        auto created = api.request("POST", downloads,
                                   nlohmann::json{{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "EvidenceDownload"},
                                                  {"metadata", {{"generateName", "probe-"}}},
                                                  {"spec", {{"snapshot", text(field(record, {"metadata", "name"}))}}}}
                                       .dump());
        if (created.status == 201) download = text(field(created.json(), {"metadata", "name"}));
      }
      works["EvidenceDownload answered"] =
          !download.empty() &&
          text(field(api.request("GET", downloads + "/" + download).json(), {"status", "phase"})) == "Ready";
      works["EvidenceSnapshot status patched"] = recorded > 0 && withStatus == recorded;
      size_t labelled = 0;
      for (size_t i = 0; i < owners_.size(); ++i) {
        auto pod = api.request("GET", "/api/v1/namespaces/rbac-probe/pods/probe-" + std::to_string(i)).json();
        if (text(field(pod, {"metadata", "labels", "podmortem.io/suspect"})) == "true") ++labelled;
      }
      works["suspect label patched on the pod"] = labelled == owners_.size();
      // Every collector got its object, or an answer that is not a refusal.
      std::set<std::string> refused;
      fs::path evidence = podmortem->evidenceDir() / "rbac-probe";
      for (size_t i = 0; i < owners_.size() && fs::exists(evidence); ++i) {
        fs::path podDir = evidence / ("probe-" + std::to_string(i));
        if (!fs::exists(podDir)) continue;
        for (const auto& bundle : fs::directory_iterator(podDir)) {
          if (!fs::exists(bundle.path() / "manifest.json")) continue;
          auto manifest = nlohmann::json::parse(readFile(bundle.path() / "manifest.json"), nullptr, false);
          for (const auto& artifact : field(manifest, {"artifacts"}).is_array() ? manifest["artifacts"] : nlohmann::json::array()) {
            if (mentionsRefusal(artifact.value("error", ""))) refused.insert(artifact.value("collector", ""));
          }
          if (mentionsRefusal(field(manifest, {"owners"}).dump())) refused.insert("owners");
        }
      }
      for (const char* collector : {"pod", "owners", "events", "logs", "node", "serviceAccount"}) {
        works[std::string("collector ") + collector + " not refused"] = refused.count(collector) == 0;
      }
      return std::all_of(works.begin(), works.end(), [](const auto& item) { return item.second; });
    };
    eventually(check, std::chrono::seconds(6));
    std::vector<std::string> failed;
    for (const auto& [behaviour, ok] : works) {
      if (!ok) failed.push_back(behaviour);
    }
    return failed;
  }

  // The webhook CA podmortem keeps in its Secret (base64), once it is there; empty when it
  // never comes.
  std::string& eventuallySecretCa(KubeApiserver& api) {
    secretCa_.clear();
    eventually([&] {
      auto secret = api.request("GET", "/api/v1/namespaces/podmortem-system/secrets/podmortem-webhook-tls").json();
      secretCa_ = text(field(secret, {"data", "ca.crt"}));
      return !secretCa_.empty();
    }, std::chrono::seconds(4));
    return secretCa_;
  }

  Cluster* cluster_ = nullptr;
  std::string secretCa_;
  std::vector<std::array<std::string, 4>> owners_;  // apiVersion, kind, name, uid
};

TEST_F(Rbac, TheShippedRolesAreSufficientAndEachRuleIsNecessary) {
  auto sufficient = probe("all-rules");
  EXPECT_TRUE(sufficient.empty()) << "with every shipped rule, these did not work: "
                                  << ::testing::PrintToString(sufficient);

  std::vector<std::pair<std::string, std::vector<std::string>>> table;
  int index = 0;
  for (const auto& role : shippedRoles()) {
    const auto& rules = role.object["rules"];
    for (size_t i = 0; i < rules.size(); ++i, ++index) {
      nlohmann::json reduced = role.object;
      reduced["rules"].erase(i);
      ASSERT_TRUE(accepted(cluster_->api().apply(reduced.dump()).at(0).status));
      auto failed = probe("without-" + std::to_string(index));
      restore(role);
      std::string rule = role.object["kind"].get<std::string>() + ": " + describe(rules[i]);
      EXPECT_FALSE(failed.empty()) << rule << " is not needed by any behaviour tested";
      table.emplace_back(rule, failed);
    }
  }
  std::cout << "\nrule removed -> behaviour that failed\n";
  for (const auto& [rule, failed] : table) {
    std::string list;
    for (const auto& behaviour : failed) list += (list.empty() ? "" : "; ") + behaviour;
    std::cout << "  " << rule << " -> " << (list.empty() ? "(nothing)" : list) << "\n";
  }
}

}  // namespace
}  // namespace podmortem::testing
