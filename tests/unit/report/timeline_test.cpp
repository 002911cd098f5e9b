// The report's timeline from a bundle written here by hand: one entry per audited request however
// many stages it had (the request body, which says dry run or force, comes with a later stage),
// exec commands decoded from the request URI, events, log lines and the capture on one time axis.
#include "podmortem/report/report.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <filesystem>

namespace podmortem::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kManifest = R"({
  "apiVersion": "podmortem.io/v1alpha1", "kind": "EvidenceManifest", "snapshotId": "0123456789abcdef0123456789abcdef",
  "createdAt": "2024-05-01T12:00:10.000Z", "completedAt": "2024-05-01T12:00:10.500Z", "phase": "Complete",
  "policy": {"name": "protect"},
  "trigger": {"source": "admission", "name": "on-delete", "operation": "DELETE", "resource": "pods", "user": "eve",
              "groups": ["devs"], "requestUid": "r-1", "time": "2024-05-01T12:00:09.900Z"},
  "pod": {"namespace": "shop", "name": "web-0", "uid": "u-1", "node": "node-1"},
  "actions": [{"action": "labels", "result": "applied"}],
  "artifacts": [
    {"path": "audit-trail.jsonl", "collector": "auditTrail", "sha256": "x", "size": 1},
    {"path": "events.json", "collector": "events", "sha256": "x", "size": 1},
    {"path": "logs/app.log", "collector": "logs", "sha256": "x", "size": 1},
    {"path": "logs/side.log", "collector": "logs", "sha256": "", "error": "GET log: 404"}
  ]
})";

// An exec in two stages, then a delete whose body (a later stage) says grace period 0.
constexpr const char* kTrail =
    R"({"auditID":"a1","stage":"RequestReceived","verb":"create","user":{"username":"eve","groups":["devs"]},"sourceIPs":["10.0.0.9"],"requestURI":"/api/v1/namespaces/shop/pods/web-0/exec?command=sh&command=-c&command=echo+hi%21&container=app","objectRef":{"resource":"pods","subresource":"exec","namespace":"shop","name":"web-0"},"requestReceivedTimestamp":"2024-05-01T12:00:01.000000Z","stageTimestamp":"2024-05-01T12:00:01.000000Z"}
{"auditID":"d1","stage":"RequestReceived","verb":"delete","user":{"username":"eve"},"requestURI":"/api/v1/namespaces/shop/pods/web-0","objectRef":{"resource":"pods","namespace":"shop","name":"web-0"},"requestReceivedTimestamp":"2024-05-01T12:00:09.800000Z","stageTimestamp":"2024-05-01T12:00:09.800000Z"}
{"auditID":"a1","stage":"ResponseComplete","verb":"create","user":{"username":"eve"},"requestURI":"/api/v1/namespaces/shop/pods/web-0/exec?command=sh&command=-c&command=echo+hi%21&container=app","objectRef":{"resource":"pods","subresource":"exec","namespace":"shop","name":"web-0"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2024-05-01T12:00:01.000000Z","stageTimestamp":"2024-05-01T12:00:05.000000Z"}
{"auditID":"d1","stage":"ResponseComplete","verb":"delete","user":{"username":"eve"},"requestURI":"/api/v1/namespaces/shop/pods/web-0","objectRef":{"resource":"pods","namespace":"shop","name":"web-0"},"requestObject":{"kind":"DeleteOptions","gracePeriodSeconds":0},"responseStatus":{"code":200},"requestReceivedTimestamp":"2024-05-01T12:00:09.800000Z","stageTimestamp":"2024-05-01T12:00:09.950000Z"}
not json
)";

constexpr const char* kEvents = R"({"kind":"EventList","items":[
  {"reason":"Killing","message":"Stopping container app","type":"Normal","source":{"component":"kubelet"},"lastTimestamp":"2024-05-01T12:00:09Z"},
  {"reason":"Started","message":"Started container app","type":"Normal","source":{"component":"kubelet"},"firstTimestamp":"2024-05-01T11:59:00Z"}]})";

constexpr const char* kLog = "2024-05-01T12:00:02.500000000Z GET /admin 200\ncontinued without a time\n";

TEST(Timeline, MergesEveryArtifactOnOneTimeAxis) {
  TempDir bundle;
  writeFile(bundle.path() / "manifest.json", kManifest);
  writeFile(bundle.path() / "audit-trail.jsonl", kTrail);
  writeFile(bundle.path() / "events.json", kEvents);
  writeFile(bundle.path() / "logs" / "app.log", kLog);
  auto timeline = report::buildTimeline(bundle.path().string(), {});
  ASSERT_TRUE(timeline.ok()) << timeline.error().message;
  std::vector<std::string> rows;
  for (const json& entry : (*timeline)["entries"]) {
    rows.push_back(entry["kind"].get<std::string>() + " " + entry["actor"].get<std::string>() + ": " +
                   entry["summary"].get<std::string>());
  }
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "event kubelet: Started: Started container app",
                      "audit eve: exec into web-0 (container app): sh -c echo hi!",
                      "log container app: GET /admin 200",
                      "log container app: continued without a time",
                      "event kubelet: Killing: Stopping container app",
                      "audit eve: delete pods web-0 in shop (force, grace period 0)",
                      "capture eve: policy protect fired (admission trigger on-delete: DELETE pods)",
                      "capture podmortem: capture started: snapshot 0123456789abcdef0123456789abcdef",
                      "capture podmortem: bundle sealed: Complete",
                      "action podmortem: labels: applied",
                  }));
  const json& exec = (*timeline)["entries"][1];
  EXPECT_EQ(exec["detail"]["command"], json({"sh", "-c", "echo hi!"}));
  EXPECT_EQ(exec["detail"]["sourceIPs"], json({"10.0.0.9"}));
  EXPECT_EQ(exec["detail"]["status"], 101) << "the answer of the last stage";
  EXPECT_EQ(exec["detail"]["stages"], json({"RequestReceived", "ResponseComplete"}));
  EXPECT_EQ(exec["line"], 1);
  EXPECT_EQ((*timeline)["notes"], json({"audit-trail.jsonl: 1 line(s) are not audit events"}));
  EXPECT_EQ((*timeline)["actors"], json({"container app", "eve", "kubelet", "podmortem"}));
  EXPECT_FALSE((*timeline)["verification"]["intact"].get<bool>()) << "hashes of 'x' do not verify";
  // The page escapes what the cluster wrote.
  writeFile(bundle.path() / "logs" / "app.log", "2024-05-01T12:00:02Z <script>alert(1)</script>\n");
  std::string page = report::renderHtml(*report::buildTimeline(bundle.path().string(), {}));
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

// What a hostile bundle may hold: a request whose later stage has a bad time, a field of the wrong
// type, an artifact path out of the bundle, an addenda folder of absurd length. No crash, no read
// outside the bundle.
TEST(Timeline, AHostileBundleIsReadWithoutCrashingOrLeavingIt) {
  TempDir dir;
  const auto bundle = dir.path() / "bundle";
  std::string manifest = kManifest;
  manifest.replace(manifest.find("logs/app.log"), 12, "logs/../../secret.log");
  writeFile(bundle / "manifest.json", manifest);
  writeFile(dir.path() / "secret.log", "2024-05-01T12:00:00Z the responder's own file\n");
  writeFile(bundle / "audit-trail.jsonl",
            R"({"auditID":"a","stageTimestamp":"2024-05-01T12:00:00Z"})" "\n"
            R"({"auditID":"a","requestReceivedTimestamp":"2024-05-01T12:00:00Z","stageTimestamp":"x","verb":"delete",)"
            R"("requestObject":{"kind":5,"gracePeriodSeconds":1e300}})" "\n"
            R"({"auditID":"b","requestReceivedTimestamp":"4052-01-01T00:00:00Z"})" "\n");
  writeFile(bundle / "events.json", R"({"items":[{"reason":1,"lastTimestamp":"2024-05-01T12:00:00Z","count":"x"}]})");
  fs::create_directories(bundle / "addenda" / "123456789012345678901234567890");
  auto timeline = report::buildTimeline(bundle.string(), {});
  ASSERT_TRUE(timeline.ok()) << timeline.error().message;
  EXPECT_EQ(timeline->dump().find("responder's own file"), std::string::npos) << "nothing outside the bundle";
  size_t audit = 0;
  for (const auto& entry : (*timeline)["entries"]) audit += entry["kind"] == "audit";
  EXPECT_EQ(audit, 1u) << "request a once; b's year-4052 time is skipped";
  EXPECT_FALSE(report::renderHtml(*timeline).empty());
}

TEST(Timeline, AFolderWithoutAManifestIsAnError) {
  TempDir empty;
  auto timeline = report::buildTimeline(empty.path().string(), {});
  ASSERT_FALSE(timeline.ok());
  EXPECT_NE(timeline.error().message.find("not a snapshot folder"), std::string::npos);
}

}  // namespace
}  // namespace podmortem::testing
