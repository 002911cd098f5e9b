// POST /audit end to end: authentication, backpressure, indexing, and the audit trail in the
// evidence of a later DELETE. Real TLS, real recorded audit events.
#include <gtest/gtest.h>

#include <condition_variable>
#include <regex>
#include <set>

#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kExecThenDelete = R"(
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
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 10s}
)";

std::string deleteOf(const std::string& namespaceName, const std::string& name, const std::string& uid) {
  auto review = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
  review["request"]["namespace"] = namespaceName;
  review["request"]["name"] = name;
  review["request"]["oldObject"]["metadata"]["namespace"] = namespaceName;
  review["request"]["oldObject"]["metadata"]["name"] = name;
  review["request"]["oldObject"]["metadata"]["uid"] = uid;
  return review.dump();
}

TEST(AuditTest, EveryRecordedAuditPayloadIsAcceptedOrCountedWithoutA5xx) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server("", {}, kNoAuth);
  auto http = server.client();
  size_t posted = 0;
  auto post = [&](const std::string& body, const std::string& what) {
    auto response = http.post("/audit?timeout=30s", body);
    EXPECT_EQ(response.status, 200u) << what << ": " << response.body;
    ++posted;
  };
  for (const auto& entry : fs::directory_iterator(sharedFixture("kube-apiserver-1.21/audit-webhook"))) {
    if (entry.path().extension() == ".json") post(readFile(entry.path()), entry.path().filename());
  }
  for (const auto& entry : fs::directory_iterator(sharedFixture("falco_k8s_audit"))) {
    if (entry.path().extension() == ".json") post(readFile(entry.path()), entry.path().filename());
  }
  post(eventListOf(readFile(sharedFixture("audit2rbac/demo.v1.log"))), "audit2rbac v1");
  post(eventListOf(readFile(sharedFixture("audit2rbac/demo.v1beta1.log"))), "audit2rbac v1beta1");
  waitForIndexing(server);
  EXPECT_GT(auditEvents(server, "accepted"), 500);
  EXPECT_GE(auditEvents(server, "malformed"), 1) << "fal_01_003 {\"kind\": 0} is counted";
  EXPECT_GT(auditEvents(server, "duplicate"), 0) << "the derived EventList repeats the single events";
  EXPECT_EQ(http.get("/healthz").status, 200u);
}

TEST(AuditTest, TokenModeRefusesMissingOrWrongTokensWith401) {
  TempDir dir;
  auto tokenFile = dir.path() / "audit-token";
  writeFile(tokenFile, "s3cr3t-t0ken-for-podmortem-tests\n");
  RunningServer server("", {}, [&](cli::Config& config) {
    config.audit.auth = webhooks::AuditAuth::kToken;
    config.audit.tokenFile = tokenFile.string();
  });
  auto http = server.client();
  std::string body = readFile(ownFixture("audit/exec-eventlist.json"));
  EXPECT_EQ(http.post("/audit", body).status, 401u);
  EXPECT_EQ(http.request("POST", "/audit", body, "application/json",
                         {{"Authorization", "Bearer wrong-token-wrong-token-123"}}).status, 401u);
  EXPECT_EQ(http.request("POST", "/audit", body, "application/json",
                         {{"Authorization", "Basic czNjcjN0"}}).status, 401u);
  auto ok = http.request("POST", "/audit", body, "application/json",
                         {{"Authorization", "Bearer s3cr3t-t0ken-for-podmortem-tests"}});
  EXPECT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(auditEvents(server, "rejected_auth"), 3);
}

// A CA, and a client certificate it signed, made with the openssl command line.
struct ClientPki {
  std::string caFile, certFile, keyFile, otherCertFile, otherKeyFile;
};

ClientPki makeClientPki(const fs::path& dir) {
  std::string d = dir.string();
  std::string script =
      "set -e; cd " + d + "; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
      "  -subj /CN=audit-ca -keyout ca.key -out ca.crt 2>/dev/null; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=kube-apiserver "
      "  -keyout client.key -out client.csr 2>/dev/null; "
      "printf 'extendedKeyUsage=clientAuth\\n' > ext.cnf; "
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
      "  -extfile ext.cnf -out client.crt 2>/dev/null; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
      "  -subj /CN=intruder -keyout other.key -out other.crt 2>/dev/null";
  auto result = runCommand(script);
  if (result.exitCode != 0) throw std::runtime_error("openssl failed: " + result.output);
  return {d + "/ca.crt", d + "/client.crt", d + "/client.key", d + "/other.crt", d + "/other.key"};
}

TEST(AuditTest, MtlsModeAcceptsOnlyClientCertificatesFromTheClientCa) {
  TempDir dir;
  auto pki = makeClientPki(dir.path());
  RunningServer server("", {}, [&](cli::Config& config) {
    config.audit.auth = webhooks::AuditAuth::kMtls;
    config.tls.clientCAFile = pki.caFile;
  });
  std::string body = readFile(ownFixture("audit/exec-eventlist.json"));
  auto port = server.app().webhookPort();
  HttpClient anonymous(port, ClientOptions{.caFile = server.app().caFile()});
  EXPECT_EQ(anonymous.post("/audit", body).status, 401u);
  EXPECT_EQ(anonymous.post("/validate", readFile(ownFixture("admission/delete-pod-web.json"))).status,
            200u) << "admission needs no client certificate";
  HttpClient intruder(port, ClientOptions{.caFile = server.app().caFile(),
                                          .clientCertFile = pki.otherCertFile,
                                          .clientKeyFile = pki.otherKeyFile});
  EXPECT_EQ(intruder.post("/audit", body).status, 401u);
  HttpClient apiServer(port, ClientOptions{.caFile = server.app().caFile(),
                                           .clientCertFile = pki.certFile,
                                           .clientKeyFile = pki.keyFile});
  EXPECT_EQ(apiServer.post("/audit", body).status, 200u);
}

TEST(AuditTest, DisabledIngestRefusesEveryoneAndNoneIsFlaggedInReadyz) {
  RunningServer disabled;
  EXPECT_EQ(disabled.client().post("/audit", "{}").status, 403u);
  RunningServer open("", {}, kNoAuth);
  auto ready = parseJson(open.client().get("/readyz").body);
  ASSERT_TRUE(ready.contains("warnings"));
  EXPECT_NE(ready["warnings"][0].get<std::string>().find("audit.auth is none"), std::string::npos);
}

// "Is audit logging on?": admission requests without audit events make /readyz say so, and an
// audit batch ends it. The window is shortened from 5 minutes to 300 ms.
TEST(AuditTest, ReadyzSaysAuditIsSilentWhileAdmissionGoesOnUntilAnEventComes) {
  RunningServer server("", {}, [](cli::Config& config) {
    kNoAuth(config);
    config.audit.silentAfter = std::chrono::milliseconds(300);
  });
  auto audit = [&] { return parseJson(server.metricsClient().get("/readyz").body); };
  EXPECT_EQ(audit()["audit"]["state"], "idle") << "no admission request yet";
  EXPECT_TRUE(audit()["audit"]["lastEventAt"].is_null());
  EXPECT_EQ(metricValue(server.metricsClient().get("/metrics").body,
                        "podmortem_audit_last_event_timestamp_seconds"), 0);

  std::string review = readFile(ownFixture("admission/delete-pod-web.json"));
  ASSERT_TRUE(eventually([&] {
    EXPECT_EQ(server.client().post("/validate", review).status, 200u);
    return audit()["audit"]["state"] == "silent";
  })) << audit().dump();
  auto ready = audit();
  EXPECT_EQ(server.metricsClient().get("/readyz").status, 200u) << "a warning, not unreadiness";
  EXPECT_NE(ready["warnings"].dump().find("admission requests keep arriving but no audit event came"),
            std::string::npos)
      << ready.dump();

  auto batch = server.client().post("/audit", readFile(ownFixture("audit/exec-eventlist.json")));
  ASSERT_EQ(batch.status, 200u) << batch.body;
  ASSERT_TRUE(eventually([&] { return audit()["audit"]["state"] == "receiving"; })) << audit().dump();
  EXPECT_TRUE(audit()["audit"]["lastEventAt"].is_string());
  EXPECT_EQ(audit()["warnings"].dump().find("no audit event came"), std::string::npos);
  double last = metricValue(server.metricsClient().get("/metrics").body,
                            "podmortem_audit_last_event_timestamp_seconds");
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(last, now - 60);
  EXPECT_LE(last, now);
}

// Holds the audit ingest worker on its first event until open(): a test fills the queue
// behind it without racing the worker.
class WorkerGate {
 public:
  std::function<void(const policy::AuditEvent&)> observer() {
    return [this](const policy::AuditEvent&) {
      std::unique_lock lock(mutex_);
      holding_ = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
    };
  }
  bool waitUntilHeld() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [this] { return holding_; });
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool holding_ = false;
  bool open_ = false;
};

TEST(AuditTest, FullQueueAnswers429AndTheBatchIsNotDoubleCountedLater) {
  WorkerGate gate;
  cli::ApplicationHooks hooks;
  hooks.auditEventObserver = gate.observer();
  RunningServer server("", hooks, [](cli::Config& config) {
    kNoAuth(config);
    config.audit.queueBatches = 1;
  });
  auto http = server.client();
  std::string batch = readFile(ownFixture("audit/exec-eventlist.json"));
  auto withIds = [&](const std::string& prefix) {
    return std::regex_replace(batch, std::regex("\"auditID\":\"([0-9a-f-]+)\""),
                              "\"auditID\":\"" + prefix + "$1\"");
  };
  ASSERT_EQ(http.post("/audit", withIds("a")).status, 200u);  // taken by the worker, held
  ASSERT_TRUE(gate.waitUntilHeld());
  ASSERT_EQ(http.post("/audit", withIds("b")).status, 200u);  // fills the queue
  auto refused = http.post("/audit", withIds("c"));
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(refused.headers["retry-after"], "1");
  gate.open();
  waitForIndexing(server);
  ASSERT_EQ(http.post("/audit", withIds("c")).status, 200u);  // the API server's retry
  waitForIndexing(server);
  double events = static_cast<double>(parseJson(batch)["items"].size());
  EXPECT_EQ(auditEvents(server, "accepted"), 3 * events);
  ASSERT_EQ(http.post("/audit", withIds("c")).status, 200u);  // a second retry: all duplicates
  waitForIndexing(server);
  EXPECT_EQ(auditEvents(server, "accepted"), 3 * events);
  EXPECT_EQ(auditEvents(server, "duplicate"), events);
  auto metrics = server.metricsClient().get("/metrics").body;
  EXPECT_EQ(metricValue(metrics, "podmortem_audit_batches_total{code=\"429\"}"), 1);
}

TEST(AuditTest, QueuedBytesOverTheLimitAnswer429) {
  WorkerGate gate;
  cli::ApplicationHooks hooks;
  hooks.auditEventObserver = gate.observer();
  RunningServer server("", hooks, [](cli::Config& config) {
    kNoAuth(config);
    config.audit.queueBatches = 1000;
    config.audit.queueBytes = 1 << 20;
  });
  auto http = server.client();
  ASSERT_EQ(http.post("/audit", readFile(ownFixture("audit/exec-eventlist.json"))).status, 200u);
  ASSERT_TRUE(gate.waitUntilHeld());
  // 600 KB batches: one fits under the 1 MiB limit, the second would pass it.
  std::string big = R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"b1","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"annotations":{"pad":")" +
                    std::string(600'000, 'x') + R"("}}]})";
  EXPECT_EQ(http.post("/audit", big).status, 200u);
  EXPECT_EQ(http.post("/audit", big).status, 429u);
  gate.open();
  waitForIndexing(server);
  EXPECT_EQ(http.post("/audit", big).status, 200u) << "room again once indexed";
}

TEST(AuditTest, ExecThenDeleteCapturesTheExecEventByteForByte) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kExecThenDelete, {}, kNoAuth);
  auto http = server.client();
  std::string exec = readFile(sharedFixture("falco_k8s_audit/exec_pod.json"));
  while (!exec.empty() && (exec.back() == '\n' || exec.back() == '\r')) exec.pop_back();
  ASSERT_EQ(http.post("/audit", exec).status, 200u);
  waitForIndexing(server);

  // Another pod, never exec'd into: requireAudit does not hold, nothing is captured.
  auto other = http.post("/validate", deleteOf("default", "quiet-pod", "22222222-0000-4000-8000-000000000002"));
  ASSERT_EQ(other.status, 200u);
  EXPECT_FALSE(parseJson(other.body)["response"].contains("warnings"));
  EXPECT_TRUE(server.snapshots().empty());

  auto response = http.post("/validate", deleteOf("default", "nginx-deployment-7998647bdf-phvq7",
                                                  "11111111-0000-4000-8000-000000000001"));
  ASSERT_EQ(response.status, 200u);
  EXPECT_EQ(parseJson(response.body)["response"]["warnings"].size(), 1u) << response.body;
  auto snapshots = server.snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  std::string trail = readFile(snapshots[0] / "audit-trail.jsonl");
  EXPECT_NE(trail.find(exec + "\n"), std::string::npos) << "the exec event, byte for byte";
  auto manifest = parseJson(readFile(snapshots[0] / "manifest.json"));
  EXPECT_EQ(manifest["auditTrail"]["events"], 1);
  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " verify " + server.evidenceDir().string()).exitCode, 0);
}

TEST(AuditTest, AuditTriggerCapturesARunningPodOnExec) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: exec-in-shop}
spec:
  match: {namespaces: [shop]}
  triggers:
    - {source: audit, verbs: [get, create], resources: [pods/exec]}
  correlation: {window: 100000h}
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 5s}
)", {}, kNoAuth);
  auto http = server.client();
  // The pods as created (admission), then the recorded audit batches: mallory execs into both.
  for (const char* create : {"01-create-pod-checkout.json", "08-create-pod-payments.json"}) {
    auto path = sharedFixture(std::string("kube-apiserver-1.21/admission/") + create);
    ASSERT_EQ(http.post("/validate", readFile(path)).status, 200u) << create;
  }
  for (int batch = 1; batch <= 38; ++batch) {
    char name[64];
    std::snprintf(name, sizeof name, "kube-apiserver-1.21/audit-webhook/batch-%02d.json", batch);
    ASSERT_EQ(http.post("/audit", readFile(sharedFixture(name))).status, 200u);
  }
  waitForIndexing(server);
  // One snapshot per pod, although each exec shows up as a WebSocket `get` and an SPDY `create`
  // at several stages.
  ASSERT_TRUE(eventually([&] { return server.snapshots().size() == 2; }));
  std::set<std::string> pods;
  for (const auto& bundle : server.snapshots()) {
    pods.insert(bundle.parent_path().filename().string());
    auto manifest = parseJson(readFile(bundle / "manifest.json"));
    EXPECT_EQ(manifest["trigger"]["source"], "audit");
    EXPECT_EQ(manifest["trigger"]["resource"], "pods/exec");
    EXPECT_EQ(manifest["trigger"]["user"], "mallory");
    EXPECT_EQ(manifest["phase"], "Complete") << bundle;
    EXPECT_FALSE(readFile(bundle / "pod.json").empty());
    EXPECT_NE(readFile(bundle / "audit-trail.jsonl").find("\"mallory\""), std::string::npos);
  }
  EXPECT_EQ(pods, (std::set<std::string>{"checkout-7d9f8c6b5-x2x9q", "payments-5c8d7f9b4-k8s2m"}));
}

TEST(ReplayTest, PrintsATimelineOfWhatWouldHaveFired) {
  REQUIRE_SHARED_FIXTURES();
  TempDir dir;
  writeFile(dir.path() / "policies" / "p.yaml", R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: pod-access}
spec:
  triggers:
    - {source: audit, verbs: [list, get, create], resources: [pods, pods/exec, pods/attach]}
  actions:
    snapshot: {collectors: [pod, auditTrail]}
)");
  auto bad = dir.path() / "bad.log";
  writeFile(bad, readFile(sharedFixture("falco_k8s_audit/exec_pod.json")) + "this is not json\n");
  auto result = runCommand(std::string(PODMORTEM_BINARY) + " replay --audit-log " +
                           sharedFixture("audit2rbac/demo.v1.log").string() + " --audit-log " +
                           bad.string() + " --policies " + (dir.path() / "policies").string());
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find(bad.string() + ":2: skipped"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("pod-access/audit-0"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("nginx-deployment-7998647bdf-phvq7"), std::string::npos);

  auto jsonFile = dir.path() / "replay.json";
  // Only stdout goes to the file: progress and the skipped line are on stderr.
  auto json = runCommand("(" + std::string(PODMORTEM_BINARY) + " replay --output json --audit-log " +
                         bad.string() + " --policies " + (dir.path() / "policies").string() +
                         " >" + jsonFile.string() + ")");
  ASSERT_EQ(json.exitCode, 0) << json.output;
  auto firings = parseJson(readFile(jsonFile));
  ASSERT_EQ(firings.size(), 1u);
  EXPECT_EQ(firings[0]["resource"], "pods/exec");
  EXPECT_EQ(firings[0]["trail"].size(), 1u);

  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " replay --audit-log /nonexistent --policies " +
                       (dir.path() / "policies").string()).exitCode, 1);
  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " replay --policies " +
                       (dir.path() / "policies").string()).exitCode, 2);
}

// The recorded attack session as an audit log: the timeline shows mallory's execs, attach and
// port-forward, the real deletes and the eviction, but not the dry-run delete.
TEST(ReplayTest, RecordedSessionTimelineLeavesOutTheDryRun) {
  REQUIRE_SHARED_FIXTURES();
  TempDir dir;
  std::string lines;
  for (int batch = 1; batch <= 38; ++batch) {
    char name[64];
    std::snprintf(name, sizeof name, "kube-apiserver-1.21/audit-webhook/batch-%02d.json", batch);
    auto parsed = parseJson(readFile(sharedFixture(name)));  // named: items of a temporary dangle
    for (const auto& item : parsed["items"]) lines += item.dump() + "\n";
  }
  writeFile(dir.path() / "audit.log", lines);
  auto out = dir.path() / "timeline.json";
  auto result = runCommand("(" + std::string(PODMORTEM_BINARY) + " replay --output json --audit-log " +
                           (dir.path() / "audit.log").string() + " --policies " +
                           sourcePath("examples/replay").string() + " >" + out.string() + ")");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::set<std::string> ids;
  std::multiset<std::string> kinds;
  for (const auto& firing : parseJson(readFile(out))) {
    ids.insert(firing["auditID"].get<std::string>());
    kinds.insert(firing["policy"].get<std::string>() + " " + firing["resource"].get<std::string>());
  }
  EXPECT_FALSE(ids.count("e5896494-0c55-4915-b0ae-183db4babf3b")) << "the dry run changed nothing";
  EXPECT_TRUE(ids.count("b338f4cd-4b5f-46d1-9508-4e9a618bf261"));
  EXPECT_TRUE(ids.count("3614ea8b-f539-4ab2-b843-2c90dada89d6"));
  EXPECT_EQ(kinds.count("pod-deleted-or-evicted pods"), 2u);
  EXPECT_EQ(kinds.count("pod-deleted-or-evicted pods/eviction"), 1u);
  EXPECT_EQ(kinds.count("interactive-access pods/exec"), 4u) << "get and create, two pods";
}

}  // namespace
}  // namespace podmortem::testing
