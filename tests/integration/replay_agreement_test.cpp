// `podmortem replay` and the server make the same decision: the recorded 1.21 session (an
// attacker's exec, a dry run, a graceful and a force delete, an eviction) is fed to a running
// server in the order it happened, audit events and admission calls interleaved, and replayed
// from its audit log; both must capture the same (policy, trigger, pod) set.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSessionPolicies = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: protect-web}
spec:
  match: {namespaces: [shop], podSelector: {matchLabels: {tier: web}}}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
    - {source: admission, operations: [CREATE], resources: [pods/eviction]}
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 5s}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: exec-then-delete}
spec:
  match: {namespaces: [shop]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods], users: {exclude: [admin]}}
  correlation:
    window: 100000h
    requireAudit: [{verbs: [get, create], resources: [pods/exec]}]
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 5s}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: interactive-access}
spec:
  match: {podSelector: {matchLabels: {app: payments}}}
  triggers:
    - {source: audit, verbs: [get, create], resources: [pods/exec, pods/attach, pods/portforward]}
  actions:
    snapshot: {collectors: [pod, auditTrail]}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: contractor-shells}
spec:
  triggers:
    - {source: admission, operations: [CONNECT], resources: [pods/exec, pods/attach], groups: {include: [contractors]}}
  actions:
    snapshot: {collectors: [pod]}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: never-fires}
spec:
  match: {podSelector: {matchLabels: {app: nothing-has-this}}}
  triggers:
    - {source: admission, operations: [DELETE, CONNECT], resources: [pods, pods/exec]}
  actions:
    snapshot: {collectors: [pod]}
)";

struct AuditLine {
  std::string stageTime;  // RFC 3339 with microseconds: sorts as text
  std::string json;
};

// One audited request, as the admission webhook would have met it.
struct AuditedRequest {
  std::string user, verb, subresource, namespaceName, name, received;
  bool dryRun = false;
};

std::vector<AuditLine> sessionAuditLines() {
  std::vector<AuditLine> lines;
  for (int batch = 1; batch <= 38; ++batch) {
    char name[64];
    std::snprintf(name, sizeof name, "kube-apiserver-1.21/audit-webhook/batch-%02d.json", batch);
    auto list = parseJson(readFile(sharedFixture(name)));
    for (const auto& item : list["items"]) {
      lines.push_back({item.value("stageTimestamp", ""), item.dump()});
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.stageTime < b.stageTime; });
  return lines;
}

std::map<std::string, AuditedRequest> auditedRequests(const std::vector<AuditLine>& lines) {
  std::map<std::string, AuditedRequest> requests;
  for (const auto& line : lines) {
    auto event = parseJson(line.json);
    auto& request = requests[event["auditID"].get<std::string>()];
    const auto ref = event.value("objectRef", json::object());
    request.user = event["user"].value("username", "");
    request.verb = event.value("verb", "");
    request.subresource = ref.value("subresource", "");
    request.namespaceName = ref.value("namespace", "");
    request.name = ref.value("name", "");
    if (event.value("stage", "") == "RequestReceived") request.received = line.stageTime;
    // Only the last stage carries the request's options.
    const auto options = event.value("requestObject", json::object());
    for (const auto& dryRun : options.value("dryRun", json::array())) {
      if (dryRun == "All") request.dryRun = true;
    }
  }
  return requests;
}

// When the API server called the webhook for an admission request: when the audited request
// it belongs to was received (admission runs between RequestReceived and ResponseComplete).
std::string admissionTime(const json& review, const std::map<std::string, AuditedRequest>& audited) {
  const auto& request = review["request"];
  std::string operation = request["operation"];
  std::string sub = request.value("subResource", "");
  std::string verb = operation == "DELETE" ? "delete" : "create";  // CONNECT over SPDY: create
  bool dryRun = request.value("dryRun", false);
  std::string earliest;
  for (const auto& [id, audit] : audited) {
    if (audit.user == request["userInfo"]["username"] && audit.verb == verb &&
        audit.subresource == sub && audit.namespaceName == request["namespace"] &&
        audit.name == request["name"] && audit.dryRun == dryRun && !audit.received.empty() &&
        (earliest.empty() || audit.received < earliest)) {
      earliest = audit.received;
    }
  }
  return earliest;
}

using CaptureKey = std::tuple<std::string, std::string, std::string, std::string>;  // policy,
                                                                                   // trigger,
                                                                                   // source, pod

std::set<CaptureKey> serverCaptures(const RunningServer& server) {
  std::set<CaptureKey> keys;
  for (const auto& dir : server.snapshots()) {
    auto manifest = parseJson(readFile(dir / "manifest.json"));
    keys.insert({manifest["policy"]["name"], manifest["trigger"]["name"],
                 manifest["trigger"]["source"],
                 manifest["pod"]["namespace"].get<std::string>() + "/" +
                     manifest["pod"]["name"].get<std::string>()});
  }
  return keys;
}

std::string describe(const std::set<CaptureKey>& keys) {
  std::string text;
  for (const auto& [policy, trigger, source, pod] : keys) {
    text += "  " + policy + "/" + trigger + " (" + source + ") " + pod + "\n";
  }
  return text;
}

TEST(ReplayAgreementTest, ServerAndReplayCaptureTheSameOnTheRecordedSession) {
  REQUIRE_SHARED_FIXTURES();
  auto lines = sessionAuditLines();
  auto audited = auditedRequests(lines);

  // Replay: the audit log alone.
  TempDir dir;
  std::string log;
  for (const auto& line : lines) log += line.json + "\n";
  writeFile(dir.path() / "audit.log", log);
  writeFile(dir.path() / "policies" / "session.yaml", kSessionPolicies);
  auto out = dir.path() / "replay.json";
  auto replay = runCommand("(" + std::string(PODMORTEM_BINARY) + " replay --output json --audit-log " +
                           (dir.path() / "audit.log").string() + " --policies " +
                           (dir.path() / "policies").string() + " >" + out.string() + ")");
  ASSERT_EQ(replay.exitCode, 0) << replay.output;
  std::set<CaptureKey> replayed;
  for (const auto& firing : parseJson(readFile(out))) {
    if (firing["effect"] != "capture") continue;
    replayed.insert({firing["policy"], firing["trigger"], firing["source"],
                     firing["namespace"].get<std::string>() + "/" +
                         firing["pod"].get<std::string>()});
  }

  // The server: audit events and admission calls in the order they happened.
  RunningServer server(kSessionPolicies, {}, kNoAuth);
  auto http = server.client();
  size_t posted = 0;
  auto postAuditUntil = [&](const std::string& time) {
    std::string batch;
    while (posted < lines.size() && (time.empty() || lines[posted].stageTime <= time)) {
      batch += lines[posted++].json + "\n";
    }
    if (batch.empty()) return;
    ASSERT_EQ(http.post("/audit?timeout=30s", eventListOf(batch)).status, 200u);
    waitForIndexing(server);
  };
  std::vector<fs::path> reviews;
  for (const auto& entry : fs::directory_iterator(sharedFixture("kube-apiserver-1.21/admission"))) {
    if (entry.path().extension() == ".json") reviews.push_back(entry.path());
  }
  std::sort(reviews.begin(), reviews.end());
  ASSERT_EQ(reviews.size(), 11u);
  for (const auto& path : reviews) {
    std::string body = readFile(path);
    std::string time = admissionTime(parseJson(body), audited);
    ASSERT_FALSE(time.empty()) << "no audited request for " << path.filename();
    postAuditUntil(time);
    auto answer = http.post("/validate?timeout=10s", body);
    ASSERT_EQ(answer.status, 200u) << path.filename() << ": " << answer.body;
  }
  postAuditUntil("");

  // Audit triggers capture in the background: wait for the server to settle on the same set.
  eventually([&] { return serverCaptures(server) == replayed; });
  auto captured = serverCaptures(server);
  EXPECT_EQ(captured, replayed) << "server:\n" << describe(captured) << "replay:\n"
                                << describe(replayed);
  // Every kind of decision took part: selectors, requireAudit, audit triggers, groups, evictions.
  EXPECT_GE(replayed.size(), 6u) << describe(replayed);
  for (const auto& [policy, trigger, source, pod] : replayed) {
    EXPECT_NE(policy, "never-fires");
  }
}

}  // namespace
}  // namespace podmortem::testing
