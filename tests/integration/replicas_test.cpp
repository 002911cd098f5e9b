// Replicas sharing the audit stream and capture claims on NATS JetStream: real nats-server
// processes (three, clustered, R3) and two real podmortem processes. The API server spreads its
// calls over replicas at random; these tests send each call to the replica that makes it hard.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "fake_api_server.h"
#include "nats_cluster.h"
#include "podmortem/core/sha256.h"
#include "podmortem/webhooks/audit_decoder.h"
#include "server_process.h"
#include "test_support.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

json parseJson(const std::string& text) { return json::parse(text); }

constexpr const char* kPod = "web-7c9d5f-abcde";

// A deletion of prod-shop/web-7c9d5f-abcde is captured only after an exec into it was seen.
constexpr const char* kExecThenDelete = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: exec-then-delete}
spec:
  match: {namespaces: [prod-shop]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  correlation:
    window: 100000h
    requireAudit: [{verbs: [get, create], resources: [pods/exec]}]
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 8s}
)";

// Every deletion in prod-shop is captured; `logs` needs a Kubernetes API (a replica with the
// fake one can be made to hang there, mid-capture).
constexpr const char* kProtectShop = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: protect-shop}
spec:
  match: {namespaces: [prod-shop]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot: {collectors: [pod, logs, auditTrail], holdDeletion: 9s}
)";

std::string deletion(const std::string& uid, bool force = false) {
  json review = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
  review["request"]["uid"] = uid;
  if (force) {
    review["request"]["options"] = {{"kind", "DeleteOptions"},
                                    {"apiVersion", "meta.k8s.io/v1"},
                                    {"gracePeriodSeconds", 0}};
  }
  return review.dump();
}

struct Answer {
  unsigned status = 0;
  bool allowed = false;
  std::string warning;
  std::string snapshotId;  // from the evidence-snapshots audit annotation
  milliseconds took{0};
};

Answer sendDelete(const ServerProcess& server, const std::string& body) {
  auto started = Clock::now();
  auto response = server.client().post("/validate?timeout=10s", body);
  Answer answer;
  answer.status = response.status;
  answer.took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  auto review = json::parse(response.body, nullptr, false);
  if (!review.is_object() || !review.contains("response")) return answer;
  const json& inner = review["response"];
  answer.allowed = inner.value("allowed", false);
  for (const auto& warning : inner.value("warnings", json::array())) {
    answer.warning += warning.get<std::string>();
  }
  std::string snapshots =
      inner.value("auditAnnotations", json::object()).value("evidence-snapshots", "");
  if (auto equals = snapshots.find('='); equals != std::string::npos) {
    answer.snapshotId = snapshots.substr(equals + 1);
  }
  return answer;
}

double metric(const ServerProcess& server, const std::string& sample) {
  std::string text = server.metricsClient().get("/metrics").body;
  auto at = text.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
}

double acceptedEvents(const ServerProcess& server) {
  return metric(server, "podmortem_audit_events_total{result=\"accepted\"}");
}

bool ready(const ServerProcess& server) {
  try {
    return server.metricsClient().get("/readyz").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

CommandResult verify(const fs::path& evidence) {
  return runCommand(std::string(PODMORTEM_BINARY) + " verify " + evidence.string());
}

std::vector<fs::path> bundles(const ServerProcess& server) {
  std::vector<fs::path> found;
  if (!fs::exists(server.evidenceDir())) return found;
  for (const auto& entry : fs::recursive_directory_iterator(server.evidenceDir())) {
    if (entry.path().filename() == "manifest.json" &&
        entry.path().parent_path().parent_path().filename() != "addenda") {
      found.push_back(entry.path().parent_path());
    }
  }
  return found;
}

// The exact bytes of each event in an audit payload.
std::vector<std::string> rawEvents(std::string body) {
  auto decoded = webhooks::decodeAuditPayload(body, 0);
  std::vector<std::string> raws;
  for (const auto& event : decoded.events) raws.push_back(event.raw);
  return raws;
}

// An EventList of `count` exec events on the pod, ids "<prefix>-<n>", as the API server batches.
std::string execBatch(const std::string& prefix, int count) {
  std::string items;
  for (int i = 0; i < count; ++i) {
    json event = {
        {"kind", "Event"},
        {"apiVersion", "audit.k8s.io/v1"},
        {"level", "Metadata"},
        {"auditID", prefix + "-" + std::to_string(i)},
        {"stage", "ResponseComplete"},
        {"requestURI", "/api/v1/namespaces/prod-shop/pods/" + std::string(kPod) + "/exec"},
        {"verb", "create"},
        {"user", {{"username", "eve"}, {"groups", {"developers"}}}},
        {"objectRef",
         {{"resource", "pods"}, {"namespace", "prod-shop"}, {"name", kPod}, {"subresource", "exec"}}},
        {"requestReceivedTimestamp", "2026-11-28T10:20:01.000100Z"},
        {"stageTimestamp", "2026-11-28T10:20:03.004100Z"}};
    items += (items.empty() ? "" : ",") + event.dump();
  }
  return R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)" + items +
         "]}";
}

// Posts a batch as the API server's webhook backend does: again after a 429 or 503 (it keeps
// the batch), until it is stored. Returns the statuses seen.
std::vector<unsigned> postUntilStored(const ServerProcess& server, const std::string& batch,
                                      milliseconds timeout = seconds(30)) {
  std::vector<unsigned> statuses;
  eventually(
      [&] {
        try {
          statuses.push_back(server.client().post("/audit", batch).status);
        } catch (const std::exception&) {
          statuses.push_back(0);
        }
        return statuses.back() == 200;
      },
      timeout);
  return statuses;
}

// Three clustered nats-servers and two podmortem replicas, "replica-a" and "replica-b", that
// share one R3 stream and claims bucket.
class Replicas {
 public:
  explicit Replicas(const std::string& policy, int natsServers = 3)
      : nats_(dir_.path() / "nats", natsServers) {
    nats_.start();
    for (const char* name : {"a", "b"}) {
      fs::path home = dir_.path() / name;
      writeFile(home / "policies" / "policy.yaml", policy);
      replicas_.push_back(std::make_unique<ServerProcess>(home, config(name)));
    }
    for (auto& replica : replicas_) replica->start();
    for (auto& replica : replicas_) waitUntilReady(*replica);
  }

  ServerProcess& a() { return *replicas_[0]; }
  ServerProcess& b() { return *replicas_[1]; }
  NatsCluster& nats() { return nats_; }
  const fs::path& dir() const { return dir_.path(); }

  // `kubernetes`: more keys of that section (mode none unless they say otherwise).
  std::string config(const std::string& name, const std::string& kubernetes = "mode: none",
                     const std::string& extra = "") const {
    return "policies: {dir: policies}\n"
           "audit: {auth: none, window: 100000h}\n"
           "kubernetes: {podName: replica-" + name + ", " + kubernetes + "}\n"
           "stream: {url: \"" + nats_.url() + "\", replicas: " +
           std::to_string(nats_.size() == 3 ? 3 : 1) + ", maxBytes: 268435456, ackTimeout: 2s}\n" +
           extra;
  }

  // Replaces replica `index` with one built from `config` (same folder), started.
  void replace(int index, const std::string& config) {
    fs::path home = replicas_[index]->dir();
    replicas_[index].reset();
    replicas_[index] = std::make_unique<ServerProcess>(home, config);
    replicas_[index]->start();
    waitUntilReady(*replicas_[index]);
  }

  static void waitUntilReady(const ServerProcess& replica) {
    ASSERT_TRUE(eventually([&] { return ready(replica); }, seconds(30))) << replica.log();
  }

 private:
  TempDir dir_;
  NatsCluster nats_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
};

TEST(ReplicasTest, AnExecPostedToOneReplicaIsInTheTrailOfADeleteAnsweredByTheOther) {
  Replicas replicas(kExecThenDelete);
  std::string batch = readFile(ownFixture("audit/exec-eventlist.json"));
  ASSERT_EQ(replicas.a().client().post("/audit", batch).status, 200u);
  ASSERT_TRUE(eventually([&] { return acceptedEvents(replicas.b()) == 4; }))
      << replicas.b().log();

  auto answer = sendDelete(replicas.b(), deletion("del-1"));
  ASSERT_EQ(answer.status, 200u);
  EXPECT_NE(answer.warning.find("captured (policy exec-then-delete"), std::string::npos)
      << "requireAudit held on the replica that never received the exec: " << answer.warning;
  auto captured = bundles(replicas.b());
  ASSERT_EQ(captured.size(), 1u);
  EXPECT_TRUE(bundles(replicas.a()).empty());
  std::string trail = readFile(captured[0] / "audit-trail.jsonl");
  for (const auto& raw : rawEvents(batch)) {
    EXPECT_NE(trail.find(raw + "\n"), std::string::npos) << "not byte for byte: " << raw;
  }
}

TEST(ReplicasTest, AGracefulDeleteOnOneReplicaAndTheForceDeleteOnTheOtherGiveOneSnapshot) {
  Replicas replicas(kProtectShop);
  auto graceful = std::async(std::launch::async,
                             [&] { return sendDelete(replicas.a(), deletion("del-graceful")); });
  auto force = std::async(std::launch::async,
                          [&] { return sendDelete(replicas.b(), deletion("del-force", true)); });
  Answer first = graceful.get();
  Answer second = force.get();
  ASSERT_EQ(first.status, 200u);
  ASSERT_EQ(second.status, 200u);
  EXPECT_TRUE(first.allowed && second.allowed);
  ASSERT_FALSE(first.snapshotId.empty()) << first.warning;
  EXPECT_EQ(first.snapshotId, second.snapshotId);
  EXPECT_EQ(first.warning, second.warning) << "the follower answers with the winner's warning";
  auto all = bundles(replicas.a());
  for (auto& bundle : bundles(replicas.b())) all.push_back(bundle);
  ASSERT_EQ(all.size(), 1u) << "one snapshot for the deletion across replicas";
  EXPECT_EQ(all[0].filename(), first.snapshotId);
  double won = metric(replicas.a(), "podmortem_stream_claims_total{result=\"won\"}") +
               metric(replicas.b(), "podmortem_stream_claims_total{result=\"won\"}");
  double lost = metric(replicas.a(), "podmortem_stream_claims_total{result=\"lost\"}") +
                metric(replicas.b(), "podmortem_stream_claims_total{result=\"lost\"}");
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 1);
}

TEST(ReplicasTest, AReplicaKilledWhileItHoldsAClaimIsTakenOverWithinTheHold) {
  Replicas replicas(kProtectShop);
  // Replica A captures against an API server whose pod logs never come: it holds the claim.
  FakeApiServer api({.token = "test-token"});
  api.stall("/api/v1/namespaces/prod-shop/pods/");
  api.writeKubeconfig(replicas.a().dir() / "kubeconfig", "test-token");
  replicas.replace(0, replicas.config("a",
                                      "mode: kubeconfig, kubeconfig: kubeconfig, "
                                      "evidenceRecords: false",
                                      "leaderElection: {enabled: false}\n"));

  auto onA = std::async(std::launch::async, [&] {
    try {
      return sendDelete(replicas.a(), deletion("del-a"));
    } catch (const std::exception&) {
      return Answer{};  // A is killed before it answers
    }
  });
  ASSERT_TRUE(eventually([&] {
    return metric(replicas.a(), "podmortem_stream_claims_total{result=\"won\"}") == 1;
  })) << replicas.a().log();
  auto onB = std::async(std::launch::async,
                        [&] { return sendDelete(replicas.b(), deletion("del-b")); });
  ASSERT_TRUE(eventually([&] {
    return metric(replicas.b(), "podmortem_stream_claims_total{result=\"lost\"}") == 1;
  })) << replicas.b().log();
  auto killedAt = Clock::now();
  replicas.a().signal(SIGKILL);
  replicas.a().wait();

  Answer answer = onB.get();
  auto afterKill = std::chrono::duration_cast<milliseconds>(Clock::now() - killedAt);
  api.release();
  ASSERT_EQ(answer.status, 200u);
  EXPECT_TRUE(answer.allowed);
  EXPECT_LT(answer.took, seconds(9)) << "answered within the policy's hold";
  EXPECT_NE(answer.warning.find("captured (policy protect-shop"), std::string::npos)
      << answer.warning;
  EXPECT_EQ(metric(replicas.b(), "podmortem_stream_claims_total{result=\"taken_over\"}"), 1);
  auto captured = bundles(replicas.b());
  ASSERT_EQ(captured.size(), 1u);
  EXPECT_EQ(captured[0].filename(), answer.snapshotId);
  EXPECT_TRUE(parseJson(readFile(captured[0] / "manifest.json")).contains("pod"));
  std::cout << "taken over and answered " << afterKill.count() << " ms after the kill\n";
  onA.get();
}

TEST(ReplicasTest, ARestartedReplicaRebuildsItsWindowFromTheStream) {
  Replicas replicas(kExecThenDelete);
  std::string batch = readFile(ownFixture("audit/exec-eventlist.json"));
  ASSERT_EQ(replicas.a().client().post("/audit", batch).status, 200u);
  ASSERT_TRUE(eventually([&] { return acceptedEvents(replicas.a()) == 4; }));
  replicas.a().signal(SIGKILL);
  replicas.a().wait();
  replicas.a().start();
  Replicas::waitUntilReady(replicas.a());
  EXPECT_EQ(acceptedEvents(replicas.a()), 4) << "the window was rebuilt before /readyz said ready";

  auto answer = sendDelete(replicas.a(), deletion("del-after-restart"));
  ASSERT_EQ(answer.status, 200u);
  EXPECT_NE(answer.warning.find("captured (policy exec-then-delete"), std::string::npos)
      << answer.warning;
  auto captured = bundles(replicas.a());
  ASSERT_EQ(captured.size(), 1u);
  std::string trail = readFile(captured[0] / "audit-trail.jsonl");
  for (const auto& raw : rawEvents(batch)) EXPECT_NE(trail.find(raw), std::string::npos);
}

// The claims bucket takes a write: after a server died, it has a leader again.
bool claimsBucketAnswers(const NatsCluster& nats) {
  natsConnection* connection = nullptr;
  if (natsConnection_ConnectTo(&connection, nats.url().c_str()) != NATS_OK) return false;
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = 500;
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  uint64_t revision = 0;
  bool answered = natsConnection_JetStream(&js, connection, &options) == NATS_OK &&
                  js_KeyValue(&kv, js, "PODMORTEM_CLAIMS") == NATS_OK &&
                  kvStore_PutString(&revision, kv, "probe", "x") == NATS_OK;
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  return answered;
}

TEST(ReplicasTest, OneNatsServerKilledLosesNothingAndClaimsGoOn) {
  Replicas replicas(kProtectShop);
  int posted = 0;
  auto postBoth = [&](const std::string& prefix) {
    for (int round = 0; round < 5; ++round) {
      for (auto* replica : {&replicas.a(), &replicas.b()}) {
        std::string batch = execBatch(prefix + std::to_string(posted), 20);
        auto statuses = postUntilStored(*replica, batch);
        ASSERT_EQ(statuses.back(), 200u);
        posted += 20;
      }
    }
  };
  postBoth("before");
  replicas.nats().kill(0);
  postBoth("after");
  // A replica whose consumer was on the killed server finds it gone (no answer for 6 s, or the
  // server says so once the stream has a new leader: nats-server elects one after 4 to 9 s) and
  // reads on from where it stopped.
  for (auto* replica : {&replicas.a(), &replicas.b()}) {
    auto waited = Clock::now();
    EXPECT_TRUE(eventually([&] { return acceptedEvents(*replica) == posted; }, seconds(45)))
        << "indexed " << acceptedEvents(*replica) << " of " << posted << "\n" << replica->log();
    std::cout << "indexed all " << posted << " events "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - waited).count()
              << " ms after the last was stored\n";
    EXPECT_EQ(metric(*replica, "podmortem_audit_events_total{result=\"duplicate\"}"), 0);
  }
  // The claims bucket elects a new leader if its leader died (nats-server waits 4 to 9 s before
  // it does); until then a claim cannot be decided and each replica captures on its own (README,
  // Limitations). Once the bucket takes writes again, claims work as before.
  ASSERT_TRUE(eventually([&] { return claimsBucketAnswers(replicas.nats()); }, seconds(30)))
      << replicas.nats().logs();
  auto graceful = std::async(std::launch::async,
                             [&] { return sendDelete(replicas.a(), deletion("del-1")); });
  Answer second = sendDelete(replicas.b(), deletion("del-2", true));
  Answer first = graceful.get();
  EXPECT_EQ(first.snapshotId, second.snapshotId) << replicas.a().log() << replicas.b().log();
  EXPECT_EQ(bundles(replicas.a()).size() + bundles(replicas.b()).size(), 1u);
  EXPECT_EQ(metric(replicas.a(), "podmortem_stream_claims_total{result=\"unavailable\"}") +
                metric(replicas.b(), "podmortem_stream_claims_total{result=\"unavailable\"}"),
            0);
}

TEST(ReplicasTest, WithEveryNatsServerDownAuditIsRefusedAndDeletesStillAnswerPartial) {
  Replicas replicas(kProtectShop);
  replicas.nats().killAll();
  ASSERT_TRUE(eventually([&] {
    return metric(replicas.a(), "podmortem_stream_connected") == 0 &&
           metric(replicas.b(), "podmortem_stream_connected") == 0;
  }));

  std::vector<std::string> batches;
  for (int i = 0; i < 6; ++i) {
    batches.push_back(execBatch("outage-" + std::to_string(i), 25));
    auto* replica = i % 2 == 0 ? &replicas.a() : &replicas.b();
    auto response = replica->client().post("/audit", batches.back());
    EXPECT_EQ(response.status, 503u) << "never 200 for a batch that was not stored";
    EXPECT_FALSE(response.headers["retry-after"].empty());
  }

  auto answer = sendDelete(replicas.a(), deletion("del-outage"));
  ASSERT_EQ(answer.status, 200u);
  EXPECT_TRUE(answer.allowed);
  EXPECT_LT(answer.took, seconds(9));
  EXPECT_NE(answer.warning.find("partially captured"), std::string::npos) << answer.warning;
  auto captured = bundles(replicas.a());
  ASSERT_EQ(captured.size(), 1u);
  json manifest = parseJson(readFile(captured[0] / "manifest.json"));
  EXPECT_EQ(manifest["phase"], "Partial");
  std::string trailError;
  for (const auto& artifact : manifest["artifacts"]) {
    if (artifact["path"] == "audit-trail.jsonl") trailError = artifact.value("error", "");
  }
  EXPECT_NE(trailError.find("audit stream (NATS) cannot be reached"), std::string::npos)
      << manifest.dump(2);

  // NATS comes back; the API server's retries of the refused batches are stored and indexed
  // on both replicas, each event once.
  replicas.nats().start();
  for (size_t i = 0; i < batches.size(); ++i) {
    auto* replica = i % 2 == 0 ? &replicas.b() : &replicas.a();  // a retry may land anywhere
    ASSERT_EQ(postUntilStored(*replica, batches[i]).back(), 200u) << replica->log();
  }
  for (auto* replica : {&replicas.a(), &replicas.b()}) {
    EXPECT_TRUE(eventually([&] { return acceptedEvents(*replica) == 150; }, seconds(20)))
        << acceptedEvents(*replica);
    EXPECT_EQ(metric(*replica, "podmortem_audit_events_total{result=\"duplicate\"}"), 0);
  }
}

TEST(ReplicasTest, AnExecSeenAtAdmissionFiresRequireAuditAndItsLateAuditEventsBecomeAnAddendum) {
  Replicas replicas(kExecThenDelete);
  // The exec reaches replica A at admission; its audit batch is still on the API server.
  auto connect = replicas.a().client().post(
      "/validate?timeout=10s", readFile(ownFixture("admission/connect-exec-web.json")));
  ASSERT_EQ(connect.status, 200u);
  ASSERT_TRUE(eventually([&] { return acceptedEvents(replicas.b()) == 1; }));

  auto answer = sendDelete(replicas.b(), deletion("del-after-exec"));
  ASSERT_EQ(answer.status, 200u);
  EXPECT_NE(answer.warning.find("captured (policy exec-then-delete"), std::string::npos)
      << "requireAudit held on the admission record alone: " << answer.warning;
  auto captured = bundles(replicas.b());
  ASSERT_EQ(captured.size(), 1u);
  std::string trail = readFile(captured[0] / "audit-trail.jsonl");
  EXPECT_NE(trail.find(R"("podmortem.io/source":"admission")"), std::string::npos) << trail;

  // The API server's batch comes after the snapshot was sealed.
  std::string batch = readFile(ownFixture("audit/exec-eventlist.json"));
  ASSERT_EQ(replicas.a().client().post("/audit", batch).status, 200u);
  fs::path addendum = captured[0] / "addenda" / "1";
  ASSERT_TRUE(eventually([&] { return fs::exists(addendum / "manifest.json"); }))
      << replicas.b().log();
  json manifest = parseJson(readFile(addendum / "manifest.json"));
  EXPECT_EQ(manifest["kind"], "EvidenceAddendum");
  EXPECT_EQ(manifest["parentManifestSha256"],
            core::sha256Hex(readFile(captured[0] / "manifest.json")));
  std::string late = readFile(addendum / "audit-trail.jsonl");
  auto raws = rawEvents(batch);
  for (size_t i = 0; i < 3; ++i) {  // the exec's three stages; the secret read is not the pod's
    EXPECT_NE(late.find(raws[i] + "\n"), std::string::npos) << late;
  }
  EXPECT_EQ(late.find("secrets"), std::string::npos);

  auto checked = verify(replicas.b().evidenceDir());
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
  EXPECT_NE(checked.output.find("1 addendum"), std::string::npos) << checked.output;
  std::string bytes = readFile(addendum / "audit-trail.jsonl");
  bytes[bytes.size() / 2] ^= 0x01;
  writeFile(addendum / "audit-trail.jsonl", bytes);
  checked = verify(replicas.b().evidenceDir());
  EXPECT_EQ(checked.exitCode, 1) << checked.output;
  EXPECT_NE(checked.output.find("addenda/1/audit-trail.jsonl"), std::string::npos)
      << checked.output;
}

TEST(ReplicasTest, ABatchLargerThanANatsMessageIsStoredInPartsAndIndexedWhole) {
  Replicas replicas(kProtectShop, 1);
  std::string batch = execBatch("big", 6000);  // about 3 MB; NATS takes 1 MB per message
  ASSERT_GT(batch.size(), size_t{2} << 20);
  auto response = replicas.a().client().post("/audit", batch);
  ASSERT_EQ(response.status, 200u) << response.body;
  for (auto* replica : {&replicas.a(), &replicas.b()}) {
    EXPECT_TRUE(eventually([&] { return acceptedEvents(*replica) == 6000; })) << acceptedEvents(*replica);
  }
  EXPECT_GE(metric(replicas.a(), "podmortem_stream_messages_published_total{kind=\"batch\"}"), 3);
  // The API server's retry of the same batch stores nothing twice.
  ASSERT_EQ(replicas.b().client().post("/audit", batch).status, 200u);
  EXPECT_EQ(metric(replicas.b(), "podmortem_audit_events_total{result=\"duplicate\"}"), 0);
}

TEST(ReplicasTest, AnExistingStreamOfAnotherShapeStopsStartUpWithExit2) {
  TempDir dir;
  NatsCluster nats(dir.path() / "nats", 1);
  nats.start();
  // Someone else's stream under podmortem's name, with other subjects.
  natsConnection* connection = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&connection, nats.url().c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {"orders.>"};
  config.Name = "PODMORTEM_AUDIT";
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_AddStream(&info, js, &config, nullptr, nullptr), NATS_OK);
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);

  ServerProcess server(dir.path() / "a", "kubernetes: {mode: none}\nstream: {url: \"" +
                                             nats.url() + "\"}\n");
  EXPECT_THROW(server.start(), std::runtime_error);
  EXPECT_EQ(server.wait(), 2);
  EXPECT_NE(server.log().find("the NATS stream PODMORTEM_AUDIT exists without the subjects "
                              "PODMORTEM_AUDIT.>"),
            std::string::npos)
      << server.log();
}

}  // namespace
}  // namespace podmortem::testing
