// podmortem in cluster mode against a real API server, as its own service account bound only by
// the shipped RBAC: policy status, the leader Lease, the webhook certificate Secret and caBundle.
#include <gtest/gtest.h>
#include <signal.h>

#include "cluster.h"
#include "kube_checks.h"
#include "nats_cluster.h"

namespace podmortem::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kPolicy = R"(apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata:
  name: status-check
spec:
  match:
    namespaces: [shop]
  triggers:
    - {name: on-delete, source: admission, operations: [DELETE], resources: [pods]}
  actions:
ACTIONS)";

std::string policy(const std::string& actions) {
  std::string text = kPolicy;
  return text.replace(text.find("ACTIONS"), 7, actions);
}

const std::string kSnapshot = "    snapshot: {collectors: [pod, auditTrail]}\n";

// Valid for the schema, not for podmortem: two triggers of one name.
std::string duplicateTriggerNames() {
  std::string text = policy(kSnapshot);
  const std::string trigger =
      "    - {name: on-delete, source: admission, operations: [DELETE], resources: [pods]}\n";
  return text.insert(text.find(trigger) + trigger.size(),
                     "    - {name: on-delete, source: admission, operations: [CREATE], "
                     "resources: [pods/eviction]}\n");
}

nlohmann::json readyCondition(KubeApiserver& api, const std::string& name) {
  auto object = api.request("GET", "/apis/podmortem.io/v1alpha1/forensicpolicies/" + name).json();
  auto conditions = field(object, {"status", "conditions"});
  for (const auto& condition : conditions.is_array() ? conditions : nlohmann::json::array()) {
    if (condition.value("type", "") == "Ready") {
      nlohmann::json ready = condition;
      ready["generation"] = field(object, {"metadata", "generation"});
      return ready;
    }
  }
  return nlohmann::json::object();
}

TEST(ClusterMode, APolicyIsReadyAtItsGenerationAndAnInvalidOneSaysWhyUntilFixed) {
  REQUIRE_CLUSTER();
  auto* cluster = Cluster::instance();
  auto& api = cluster->api();
  TempDir dir;
  auto podmortem = cluster->podmortem(dir.path() / "podmortem-status",
                                      "kubernetes: {statusInterval: 1s}\n", false);
  podmortem->start();

  ASSERT_TRUE(accepted(api.apply(policy(kSnapshot)).at(0).status));
  ASSERT_TRUE(Cluster::waitFor(
      [&] {
        auto ready = readyCondition(api, "status-check");
        return ready.value("status", "") == "True" &&
               ready.contains("observedGeneration") &&
               ready["observedGeneration"] == ready["generation"];
      },
      "status-check Ready=True at its generation"))
      << podmortem->log();

  auto invalid = api.apply(duplicateTriggerNames()).at(0);
  ASSERT_TRUE(accepted(invalid.status)) << invalid.body;
  ASSERT_TRUE(Cluster::waitFor(
      [&] {
        auto ready = readyCondition(api, "status-check");
        return ready.value("status", "") == "False" &&
               ready.value("message", "").find("duplicate trigger name") != std::string::npos &&
               ready.contains("observedGeneration") &&
               ready["observedGeneration"] == ready["generation"];
      },
      "Ready=False naming the problem"))
      << podmortem->log();
  ASSERT_TRUE(accepted(api.apply(policy(kSnapshot)).at(0).status));
  EXPECT_TRUE(Cluster::waitFor(
      [&] { return readyCondition(api, "status-check").value("status", "") == "True"; },
      "Ready=True again after the fix"));
  expectNoAuthorizationErrors(*podmortem);
  api.request("DELETE", "/apis/podmortem.io/v1alpha1/forensicpolicies/status-check");
}

TEST(ClusterMode, TheLeaseIsHeldAndHandedOverWhenTheHolderStops) {
  REQUIRE_CLUSTER();
  auto* cluster = Cluster::instance();
  auto& api = cluster->api();
  TempDir dir;
  // The shipped Role allows only the Lease podmortem-leader; a holder from an earlier test may
  // still have it for up to its duration.
  const std::string election = "leaderElection: {leaseDuration: 4s, retryPeriod: 500ms}\n";
  auto first = cluster->podmortem(dir.path() / "replica-1", election, false);
  first->start();
  const std::string lease = "/apis/coordination.k8s.io/v1/namespaces/podmortem-system/leases/podmortem-leader";
  auto holder = [&] { return text(field(api.request("GET", lease).json(), {"spec", "holderIdentity"})); };
  ASSERT_TRUE(Cluster::waitFor([&] { return holder() == "replica-1"; }, "replica-1 to hold the lease",
                               seconds(30)))
      << first->log();
  auto second = cluster->podmortem(dir.path() / "replica-2", election, false);
  second->start();
  EXPECT_EQ(holder(), "replica-1");

  auto stopped = std::chrono::steady_clock::now();
  first->signal(SIGKILL);  // no goodbye: the lease must run out
  first->wait();
  ASSERT_TRUE(Cluster::waitFor([&] { return holder() == "replica-2"; }, "replica-2 to take over",
                               seconds(10)))
      << second->log();
  auto took = std::chrono::steady_clock::now() - stopped;
  EXPECT_LT(took, seconds(4) + seconds(2)) << "within the lease duration and a retry";
  expectNoAuthorizationErrors(*second);
}

TEST(ClusterMode, TheWebhookCertificateIsKeptInASecretAndItsCaInTheWebhookConfiguration) {
  REQUIRE_CLUSTER();
  auto* cluster = Cluster::instance();
  auto& api = cluster->api();
  TempDir dir;
  const uint16_t port = freeLoopbackPorts(1)[0];
  cluster->applyWebhookConfiguration(port);
  const std::string config = "listen: 127.0.0.1:" + std::to_string(port) + "\n" +
                             "tls: {manageSecret: true, webhookConfiguration: podmortem}\n";
  auto podmortem = cluster->podmortem(dir.path() / "podmortem-certs", config, false);
  podmortem->start();
  // The shipped Role allows only this Secret.
  const std::string secretPath = "/api/v1/namespaces/podmortem-system/secrets/podmortem-webhook-tls";
  nlohmann::json secret;
  ASSERT_TRUE(Cluster::waitFor(
      [&] {
        secret = api.request("GET", secretPath).json();
        return !text(field(secret, {"data", "ca.crt"})).empty();
      },
      "the certificate Secret"))
      << podmortem->log();
  auto caBundle = [&] {
    auto webhook = api.request("GET", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/podmortem").json();
    auto hooks = field(webhook, {"webhooks"});
    return hooks.is_array() && !hooks.empty() ? text(field(hooks[0], {"clientConfig", "caBundle"}))
                                              : std::string();
  };
  ASSERT_TRUE(Cluster::waitFor([&] { return caBundle() == secret["data"].value("ca.crt", ""); },
                               "the caBundle to be the Secret's CA"))
      << podmortem->log();

  // Restarted, it reuses the Secret: same certificate, Secret unchanged.
  const std::string version = secret["metadata"].value("resourceVersion", "");
  podmortem->signal(SIGTERM);
  ASSERT_EQ(podmortem->wait(), 0) << podmortem->log();
  podmortem->start();
  EXPECT_EQ(api.request("GET", secretPath).json()["metadata"].value("resourceVersion", ""), version);
  // It serves the Secret's certificate: a client trusting only the Secret's CA gets through.
  auto ca = runCommand("printf '%s' '" + text(field(secret, {"data", "ca.crt"})) + "' | base64 -d");
  writeFile(dir.path() / "secret-ca.crt", ca.output);
  HttpClient client(podmortem->webhookPort(), ClientOptions{(dir.path() / "secret-ca.crt").string()});
  EXPECT_TRUE(Cluster::waitFor([&] { return client.get("/healthz").status == 200; },
                               "the restarted server over the Secret's certificate"));
  EXPECT_EQ(caBundle(), secret["data"].value("ca.crt", ""));
  expectNoAuthorizationErrors(*podmortem);
}

}  // namespace
}  // namespace podmortem::testing
