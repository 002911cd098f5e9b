// Late audit events: what the window indexes after a snapshot's trail was taken goes into an
// addendum, for audit.lateness after the snapshot was sealed, and nothing already in the trail
// is sealed twice.
#include "podmortem/controller/audit_addenda.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_support.h"

namespace podmortem::controller {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

policy::AuditEvent execEvent(const std::string& auditId, const std::string& pod = "web-0") {
  policy::AuditEvent event;
  event.auditId = auditId;
  event.stage = "ResponseComplete";
  event.verb = "create";
  event.userName = "mallory";
  event.resource = "pods";
  event.subResource = "exec";
  event.namespaceName = "shop";
  event.name = pod;
  event.timeMicros = 1'700'000'000'000'000;
  event.raw = R"({"auditID":")" + auditId + R"(","objectRef":{"name":")" + pod + "\"}}";
  return event;
}

struct Fixture {
  testing::TempDir dir;
  prometheus::Registry registry;
  SnapshotMetrics metrics{registry};
  policy::CorrelationWindow window{{}};
  evidence::FileStore store{(dir.path() / "evidence").string(), nullptr};
  CaptureRequest request;
  std::string id = evidence::newSnapshotId();

  Fixture() { request.pod = {"shop", "web-0", "uid-web-0", "node-a"}; }

  // What the indexer does: add to the window, then tell the addenda.
  void index(AuditAddenda& addenda, const policy::AuditEvent& event) {
    ASSERT_EQ(window.add(event, std::chrono::system_clock::now()),
              policy::CorrelationWindow::AddResult::kIndexed);
    addenda.onEvent(event, event.raw);
  }

  // The snapshot sealed with a trail taken now.
  evidence::WriteResult seal(AuditAddenda& addenda) {
    evidence::SnapshotContent content;
    content.id = id;
    content.pod = request.pod;
    content.artifacts = {{"pod.json", "pod", "{}", ""}};
    auto result = store.write(content);
    nlohmann::json extra = {{"auditTrail", {{"windowEventsIndexed", window.indexedTotal()}}}};
    addenda.finished(id, request, result, extra);
    return result;
  }

  fs::path addendum(int n) const {
    return dir.path() / "evidence" / "shop" / "web-0" / id / "addenda" / std::to_string(n);
  }
};

AuditAddenda::Options never(milliseconds lateness) {
  // The worker never flushes by itself: the test does.
  return {.lateness = lateness, .flushInterval = std::chrono::hours(1)};
}

TEST(AuditAddenda, EventsIndexedAfterTheTrailGoIntoAnAddendumAndTheTrailsOwnDoNot) {
  Fixture f;
  AuditAddenda addenda(f.store, f.window, f.metrics, never(std::chrono::minutes(1)));
  addenda.started(f.id, f.request);
  f.index(addenda, execEvent("in-the-trail"));
  ASSERT_FALSE(f.seal(addenda).bundlePath.empty());
  f.index(addenda, execEvent("late-1"));
  f.index(addenda, execEvent("late-2"));
  f.index(addenda, execEvent("other-pod", "web-1"));
  addenda.flush();

  std::string late = testing::readFile(f.addendum(1) / "audit-trail.jsonl");
  EXPECT_EQ(late, execEvent("late-1").raw + "\n" + execEvent("late-2").raw + "\n");
  EXPECT_FALSE(fs::exists(f.addendum(2)));
  f.index(addenda, execEvent("late-3"));
  addenda.flush();
  EXPECT_EQ(testing::readFile(f.addendum(2) / "audit-trail.jsonl"), execEvent("late-3").raw + "\n");
}

TEST(AuditAddenda, EventsAfterTheLatenessAreNotAdded) {
  Fixture f;
  AuditAddenda addenda(f.store, f.window, f.metrics, never(milliseconds(0)));
  addenda.started(f.id, f.request);
  f.seal(addenda);
  f.index(addenda, execEvent("too-late"));
  addenda.flush();
  EXPECT_FALSE(fs::exists(f.addendum(1)));
}

TEST(AuditAddenda, ASnapshotThatKeptNothingGetsNoAddendum) {
  Fixture f;
  AuditAddenda addenda(f.store, f.window, f.metrics, never(std::chrono::minutes(1)));
  addenda.started(f.id, f.request);
  evidence::WriteResult failed;  // nothing kept: no bundle path
  addenda.finished(f.id, f.request, failed, nlohmann::json::object());
  f.index(addenda, execEvent("late"));
  addenda.flush();
  EXPECT_FALSE(fs::exists(f.addendum(1).parent_path()));
}

}  // namespace
}  // namespace podmortem::controller
