// POST /validate end to end: real TLS, real recorded AdmissionReviews, real evidence on disk.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>

#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProtectAllPods = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  match:
    excludeNamespaces: [kube-system]
  triggers:
    - name: on-delete
      source: admission
      operations: [DELETE, CREATE]
      resources: [pods, pods/eviction]
  actions:
    snapshot:
      collectors: [pod, auditTrail]
      holdDeletion: 10s
)";

std::string policyFor(const std::string& name, const std::string& namespaces,
                      const std::string& hold, const std::string& onTimeout) {
  return "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  match: {namespaces: [" + namespaces +
         "]}\n  triggers:\n    - {source: admission, operations: [DELETE], resources: [pods]}\n"
         "  actions:\n    snapshot: {collectors: [pod, auditTrail], holdDeletion: " +
         hold + ", onTimeout: " + onTimeout + "}\n";
}

std::string ownDelete() { return readFile(ownFixture("admission/delete-pod-web.json")); }

TEST(AdmissionTest, ProtectedDeleteProducesAVerifiedSnapshotOfTheOldObject) {
  RunningServer server(kProtectAllPods);
  std::string body = ownDelete();
  auto response = server.client().post("/validate?timeout=10s", body);
  ASSERT_EQ(response.status, 200u) << response.body;
  auto review = parseJson(response.body);
  EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(review["kind"], "AdmissionReview");
  EXPECT_EQ(review["response"]["uid"], "3b1f0c52-9d0e-4b8e-a7a4-1f2e3d4c5b6a");
  EXPECT_EQ(review["response"]["allowed"], true);
  ASSERT_EQ(review["response"]["warnings"].size(), 1u);
  std::string warning = review["response"]["warnings"][0];
  EXPECT_EQ(warning.rfind("podmortem: evidence snapshot ", 0), 0u) << warning;
  EXPECT_NE(warning.find("captured (policy capture-on-delete, 2 artifacts)"), std::string::npos)
      << warning;
  std::string annotation = review["response"]["auditAnnotations"]["evidence-snapshots"];

  auto snapshots = server.snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  const auto& bundle = snapshots[0];
  EXPECT_EQ(bundle.parent_path(), server.evidenceDir() / "prod-shop" / "web-7c9d5f-abcde");
  EXPECT_EQ(annotation, "capture-on-delete=" + bundle.filename().string());
  // pod.json holds the request's oldObject byte for byte.
  auto sent = parseJson(body);
  EXPECT_EQ(parseJson(readFile(bundle / "pod.json")), sent["request"]["oldObject"]);
  EXPECT_NE(body.find(readFile(bundle / "pod.json")), std::string::npos);
  auto manifest = parseJson(readFile(bundle / "manifest.json"));
  EXPECT_EQ(manifest["pod"]["uid"], "0f6a2b1c-5d4e-4f3a-9b8c-7d6e5f4a3b2c");
  EXPECT_EQ(manifest["pod"]["node"], "worker-2");
  EXPECT_EQ(manifest["trigger"]["user"], "eve");
  EXPECT_EQ(manifest["trigger"]["requestUid"], "3b1f0c52-9d0e-4b8e-a7a4-1f2e3d4c5b6a");
  EXPECT_EQ(manifest["phase"], "Complete");

  auto verify = runCommand(std::string(PODMORTEM_BINARY) + " verify " + server.evidenceDir().string());
  EXPECT_EQ(verify.exitCode, 0) << verify.output;
}

TEST(AdmissionTest, RecordedDeleteFromARealClusterIsCaptured) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kProtectAllPods);
  std::string body = readFile(sharedFixture("kubewarden_pod_privileged/req_delete.AdmissionReview.derived.json"));
  auto response = server.client().post("/validate", body);
  ASSERT_EQ(response.status, 200u) << response.body;
  auto review = parseJson(response.body);
  EXPECT_EQ(review["response"]["uid"], parseJson(body)["request"]["uid"]);
  ASSERT_EQ(server.snapshots().size(), 1u);
  EXPECT_EQ(parseJson(readFile(server.snapshots()[0] / "pod.json")),
            parseJson(body)["request"]["oldObject"]);
}

TEST(AdmissionTest, UnprotectedDeleteCreatesNothingAndIsAllowedAtOnce) {
  RunningServer server(policyFor("only-payments", "payments", "10s", "allow"));
  auto response = server.client().post("/validate", ownDelete());
  ASSERT_EQ(response.status, 200u);
  auto review = parseJson(response.body);
  EXPECT_EQ(review["response"]["allowed"], true);
  EXPECT_FALSE(review["response"].contains("warnings"));
  EXPECT_TRUE(server.snapshots().empty());
}

TEST(AdmissionTest, DryRunCreatesNothing) {
  RunningServer server(kProtectAllPods);
  auto request = parseJson(ownDelete());
  request["request"]["dryRun"] = true;
  auto response = server.client().post("/validate", request.dump());
  ASSERT_EQ(response.status, 200u);
  EXPECT_EQ(parseJson(response.body)["response"]["allowed"], true);
  EXPECT_TRUE(server.snapshots().empty());
  EXPECT_FALSE(fs::exists(server.evidenceDir() / "prod-shop"));
}

TEST(AdmissionTest, RecordedServerSideDryRunCreatesNothing) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kProtectAllPods);
  auto body = readFile(sharedFixture("kube-apiserver-1.21/admission/04-delete-pod-checkout-dryrun-by-mallory.json"));
  auto response = server.client().post("/validate?timeout=10s", body);
  ASSERT_EQ(response.status, 200u);
  EXPECT_TRUE(server.snapshots().empty());
}

TEST(AdmissionTest, TenConcurrentIdenticalDeletesCreateOneSnapshot) {
  RunningServer server(kProtectAllPods);
  std::string body = ownDelete();
  std::vector<std::future<ClientResponse>> calls;
  for (int i = 0; i < 10; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return server.client().post("/validate", body); }));
  }
  std::set<std::string> annotations;
  for (auto& call : calls) {
    auto response = call.get();
    ASSERT_EQ(response.status, 200u);
    auto review = parseJson(response.body);
    EXPECT_EQ(review["response"]["allowed"], true);
    annotations.insert(review["response"]["auditAnnotations"]["evidence-snapshots"].get<std::string>());
  }
  EXPECT_EQ(annotations.size(), 1u) << "every call names the same snapshot";
  EXPECT_EQ(server.snapshots().size(), 1u);
}

TEST(AdmissionTest, GracefulThenForceDeleteOfOnePodGiveOneSnapshot) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kProtectAllPods);
  auto http = server.client();
  for (const char* name : {"05-delete-pod-checkout-graceful-by-mallory.json",
                           "06-delete-pod-checkout-force-by-admin-call1.json",
                           "07-delete-pod-checkout-force-by-admin-call2.json"}) {
    auto body = readFile(sharedFixture(std::string("kube-apiserver-1.21/admission/") + name));
    auto response = http.post("/validate?timeout=10s", body);
    ASSERT_EQ(response.status, 200u) << name;
    EXPECT_EQ(parseJson(response.body)["response"]["uid"], parseJson(body)["request"]["uid"]);
  }
  auto snapshots = server.snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  auto manifest = parseJson(readFile(snapshots[0] / "manifest.json"));
  EXPECT_EQ(manifest["trigger"]["user"], "mallory") << "the first, graceful delete is the one kept";
}

TEST(AdmissionTest, EvictionIsCapturedWithThePodFromAnEarlierAdmissionRequest) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kProtectAllPods);
  auto http = server.client();
  auto create = readFile(sharedFixture("kube-apiserver-1.21/admission/08-create-pod-payments.json"));
  ASSERT_EQ(http.post("/validate", create).status, 200u);
  auto eviction = readFile(sharedFixture("kube-apiserver-1.21/admission/11-create-eviction-payments-by-admin.json"));
  auto response = http.post("/validate?timeout=10s", eviction);
  ASSERT_EQ(response.status, 200u) << response.body;
  EXPECT_EQ(parseJson(response.body)["response"]["allowed"], true);
  auto snapshots = server.snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  EXPECT_EQ(snapshots[0].parent_path().filename(), "payments-5c8d7f9b4-k8s2m");
  EXPECT_EQ(parseJson(readFile(snapshots[0] / "pod.json")), parseJson(create)["request"]["object"]);
  auto manifest = parseJson(readFile(snapshots[0] / "manifest.json"));
  EXPECT_EQ(manifest["trigger"]["resource"], "pods/eviction");
}

// A collector that blocks until the test lets it go: a capture that cannot finish in time.
class HangingCollector : public controller::Collector {
 public:
  std::string_view name() const override { return "pod"; }
  controller::Collected collect(const controller::CaptureRequest&) override {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [this] { return release_; });
    controller::Collected collected;
    collected.artifacts.push_back({"pod.json", "pod", "{}", ""});
    return collected;
  }
  void release() {
    std::lock_guard lock(mutex_);
    release_ = true;
    released_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
};

struct HoldCase {
  std::string onTimeout;
  bool allowed;
};

class HoldTimeoutTest : public ::testing::TestWithParam<HoldCase> {};

TEST_P(HoldTimeoutTest, HungCaptureReleasesTheAnswerAtHoldDeletionWithOnTimeout) {
  auto hanging = std::make_shared<HangingCollector>();
  cli::ApplicationHooks hooks;
  hooks.collectors.push_back(hanging);
  auto server = std::make_unique<RunningServer>(
      policyFor("hold-test", "prod-*", "700ms", GetParam().onTimeout), hooks);
  auto start = std::chrono::steady_clock::now();
  auto response = server->client().post("/validate?timeout=10s", ownDelete());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(response.status, 200u);
  // Held until the capture was sealed at the hold minus its sealing margin (a tenth of it).
  EXPECT_GE(elapsed, std::chrono::milliseconds(630));
  EXPECT_LT(elapsed, std::chrono::milliseconds(5000));
  auto review = parseJson(response.body);
  EXPECT_EQ(review["response"]["allowed"], GetParam().allowed) << response.body;
  if (GetParam().allowed) {
    // Sealed with what was in hand just before the hold ran out; the warning says what is missing.
    std::string warning = review["response"]["warnings"][0];
    EXPECT_NE(warning.find("partially captured"), std::string::npos) << warning;
    EXPECT_NE(warning.find("1 collector timed out"), std::string::npos) << warning;
  } else {
    EXPECT_EQ(review["response"]["status"]["code"], 403);
    std::string message = review["response"]["status"]["message"];
    EXPECT_NE(message.find("onTimeout: deny"), std::string::npos) << message;
  }
  // The capture itself still ends in a bundle that records the collector as timed out.
  ASSERT_TRUE(eventually([&] { return server->snapshots().size() == 1; }));
  auto manifest = parseJson(readFile(server->snapshots()[0] / "manifest.json"));
  EXPECT_EQ(manifest["phase"], "Partial");
  hanging->release();
}

INSTANTIATE_TEST_SUITE_P(OnTimeout, HoldTimeoutTest,
                         ::testing::Values(HoldCase{"allow", true}, HoldCase{"deny", false}),
                         [](const auto& info) { return info.param.onTimeout; });

TEST(AdmissionTest, HoldNeverOutlastsTheApiServersOwnTimeout) {
  auto hanging = std::make_shared<HangingCollector>();
  cli::ApplicationHooks hooks;
  hooks.collectors.push_back(hanging);
  RunningServer server(policyFor("long-hold", "prod-*", "30s", "allow"), hooks);
  auto start = std::chrono::steady_clock::now();
  auto response = server.client().post("/validate?timeout=2s", ownDelete());
  auto elapsed = std::chrono::steady_clock::now() - start;
  hanging->release();
  EXPECT_EQ(response.status, 200u);
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
}

TEST(AdmissionTest, EveryRecordedPayloadIsAnsweredWithoutA5xx) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kProtectAllPods);
  auto http = server.client();
  size_t sent = 0;
  for (const auto& entry : fs::recursive_directory_iterator(PODMORTEM_FIXTURES_DIR)) {
    auto extension = entry.path().extension();
    if (!entry.is_regular_file() || (extension != ".json" && extension != ".jsonl" && extension != ".log")) continue;
    auto response = http.post("/validate?timeout=10s", readFile(entry.path()));
    EXPECT_LT(response.status, 500u) << entry.path();
    EXPECT_TRUE(response.status == 200u || response.status == 400u) << entry.path() << " " << response.status;
    ++sent;
  }
  EXPECT_GT(sent, 100u);
  EXPECT_EQ(server.client().get("/healthz").status, 200u);
}

TEST(AdmissionTest, MalformedReviewsAre400WithAJsonErrorAndTheServerKeepsServing) {
  RunningServer server(kProtectAllPods);
  std::vector<std::string> bodies = {
      "", "{", "[]", "null", "42", "\"text\"", "{\"kind\":0}", "{\"request\":{}}",
      R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x","operation":"DELETE"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"x"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"DELETE"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7,"operation":"DELETE"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"DELETE","resource":{"group":"","resource":"pods"},"oldObject":{"kind":"Secret"}}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"DELETE","resource":{"group":"","resource":"pods"},"oldObject":null}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"DELETE","resource":{"group":"","resource":"pods"},"oldObject":{"kind":"Pod","metadata":{"labels":{"a":1}}}}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","userInfo":{"groups":[1]}}})",
      std::string("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\xff\xfe\"}}"),
  };
  auto truncated = ownDelete();
  bodies.push_back(truncated.substr(0, truncated.size() / 2));
  auto http = server.client();
  for (const auto& body : bodies) {
    auto response = http.post("/validate", body);
    EXPECT_EQ(response.status, 400u) << body;
    EXPECT_TRUE(parseJson(response.body).contains("error")) << response.body;
  }
  EXPECT_TRUE(server.snapshots().empty());
  EXPECT_EQ(http.post("/validate", ownDelete()).status, 200u);
}

TEST(AdmissionTest, PodNamesThatAreNotKubernetesNamesNeverBecomePaths) {
  RunningServer server(kProtectAllPods);
  auto request = parseJson(ownDelete());
  request["request"]["oldObject"]["metadata"]["name"] = "../../escape";
  request["request"]["oldObject"]["metadata"]["namespace"] = "prod-shop";
  auto response = server.client().post("/validate", request.dump());
  ASSERT_EQ(response.status, 200u);
  auto review = parseJson(response.body);
  EXPECT_EQ(review["response"]["allowed"], true);
  std::string warning = review["response"]["warnings"][0];
  EXPECT_NE(warning.find("failed"), std::string::npos) << warning;
  EXPECT_TRUE(server.snapshots().empty());
  EXPECT_FALSE(fs::exists(server.evidenceDir().parent_path() / "escape"));
}

}  // namespace
}  // namespace podmortem::testing

namespace podmortem::testing {
namespace {

// The API server sends its audit events in batches seconds apart: an exec followed at once by a
// delete must still count. The CONNECT admission call records the exec itself.
TEST(AdmissionTest, AnExecSeenAtAdmissionSatisfiesRequireAuditBeforeAnyAuditBatchArrives) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: exec-then-delete}
spec:
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  correlation:
    window: 100000h
    requireAudit: [{verbs: [get, create], resources: [pods/exec]}]
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 5s}
)", {}, [](cli::Config& config) { config.correlation.window = std::chrono::hours(100'000); });
  auto http = server.client();
  const std::string dir = "kube-apiserver-1.21/admission/";
  auto exec = http.post("/validate?timeout=10s",
                        readFile(sharedFixture(dir + "02-connect-exec-checkout-by-mallory.json")));
  ASSERT_EQ(exec.status, 200u);
  ASSERT_TRUE(eventually([&] {
    auto text = server.metricsClient().get("/metrics").body;
    return metricValue(text, "podmortem_admission_connects_recorded_total") == 1 &&
           metricValue(text, "podmortem_audit_events_total{result=\"accepted\"}") == 1;
  }));
  auto deletion = http.post(
      "/validate?timeout=10s",
      readFile(sharedFixture(dir + "05-delete-pod-checkout-graceful-by-mallory.json")));
  ASSERT_EQ(deletion.status, 200u);
  std::string warning = parseJson(deletion.body)["response"]["warnings"][0];
  EXPECT_NE(warning.find("captured (policy exec-then-delete"), std::string::npos) << warning;
  ASSERT_EQ(server.snapshots().size(), 1u);
  auto trail = readFile(server.snapshots()[0] / "audit-trail.jsonl");
  auto event = parseJson(trail.substr(0, trail.find('\n')));
  EXPECT_EQ(event["annotations"]["podmortem.io/source"], "admission") << trail;
  EXPECT_EQ(event["user"]["username"], "mallory");
  EXPECT_EQ(event["objectRef"]["subresource"], "exec");
  EXPECT_EQ(event["requestObject"]["command"][0], "sh") << "the command is kept";
}

}  // namespace
}  // namespace podmortem::testing
