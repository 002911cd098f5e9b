// Audit triggers: what fires on an audit event, and that the ingest worker never waits on the
// API server to find out.
#include "podmortem/controller/audit_trigger_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "podmortem/controller/capture_service.h"
#include "podmortem/evidence/store.h"
#include "podmortem/policy/parser.h"
#include "test_support.h"

namespace podmortem::controller {
namespace {

using testing::eventually;

constexpr const char* kWebExec = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: web-exec}
spec:
  match: {podSelector: {matchLabels: {app: web}}}
  triggers:
    - {source: audit, verbs: [create], resources: [pods/exec]}
  actions:
    snapshot: {collectors: [pod]}
)";

policy::AuditEvent execOn(const std::string& pod) {
  policy::AuditEvent event;
  event.auditId = "audit-" + pod;
  event.stage = "ResponseStarted";
  event.verb = "create";
  event.userName = "mallory";
  event.resource = "pods";
  event.subResource = "exec";
  event.namespaceName = "shop";
  event.name = pod;
  event.timeMicros = 1'700'000'000'000'000;
  return event;
}

// A gate the pod lookup waits at, so a test can hold "the API server" as long as it likes.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool someoneWaits() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [this] { return waiting_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

struct Fixture {
  testing::TempDir dir;
  prometheus::Registry registry;
  SnapshotMetrics metrics{registry};
  policy::PolicyStore policies;
  PodCache pods{100};
  policy::CorrelationWindow window{{}};
  evidence::FileStore store{(dir.path() / "evidence").string(), nullptr};
  SnapshotManager snapshots{store, CollectorRegistry::localDefaults(nullptr, std::chrono::minutes(30)),
                            metrics, {}};
  CaptureService capture{snapshots, pods};
  std::atomic<int> lookups{0};
  Gate api;

  Fixture() { policies.replace(policy::parsePolicyDocuments(kWebExec, "test.yaml")); }

  AuditTriggerRunner::Hooks hooks(const std::string& labelValue) {
    AuditTriggerRunner::Hooks hooks;
    hooks.lookupPod = [this, labelValue](const std::string& ns, const std::string& name) {
      ++lookups;
      api.wait();
      auto pod = std::make_shared<policy::PodRecord>();
      pod->identity = {ns, name, "uid-" + name, "node-1"};
      pod->labels = {{"app", labelValue}};
      pod->json = R"({"kind":"Pod"})";
      pod->source = "Kubernetes API";
      return std::shared_ptr<const policy::PodRecord>(pod);
    };
    return hooks;
  }

  size_t bundles() const {
    size_t count = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
      if (entry.path().filename() == "manifest.json") ++count;
    }
    return count;
  }
};

TEST(AuditTriggerRunner, AKnownPodFiresAtOnceWithoutALookup) {
  Fixture f;
  policy::PodRecord pod;
  pod.identity = {"shop", "web-1", "uid-1", ""};
  pod.labels = {{"app", "web"}};
  pod.json = R"({"kind":"Pod"})";
  f.pods.remember(pod);
  AuditTriggerRunner runner(f.policies, f.capture, f.snapshots, f.pods, f.window, f.hooks("web"));
  EXPECT_EQ(runner.onEvent(execOn("web-1")), 1u);
  EXPECT_EQ(f.lookups.load(), 0);
  EXPECT_TRUE(eventually([&] { return f.bundles() == 1; }));
}

// Opens the gate on the way out, so a failed assertion cannot leave the runner waiting forever.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

TEST(AuditTriggerRunner, AnUnknownPodIsLookedUpOffTheIngestThread) {
  Fixture f;
  AuditTriggerRunner runner(f.policies, f.capture, f.snapshots, f.pods, f.window, f.hooks("web"));
  OpenOnExit opener{f.api};
  // The API server hangs: onEvent must still return at once.
  EXPECT_EQ(runner.onEvent(execOn("web-2")), 0u);
  ASSERT_TRUE(f.api.someoneWaits()) << "the lookup runs on a capture worker";
  EXPECT_EQ(runner.pendingLookups(), 1u);
  EXPECT_EQ(f.bundles(), 0u);
  f.api.open();
  EXPECT_TRUE(eventually([&] { return runner.pendingLookups() == 0 && f.bundles() == 1; }));
  auto manifest = testing::readFile(
      [&] {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(f.dir.path())) {
          if (entry.path().filename() == "manifest.json") return entry.path();
        }
        return std::filesystem::path();
      }());
  EXPECT_NE(manifest.find("\"podSource\": \"Kubernetes API\""), std::string::npos) << manifest;
}

TEST(AuditTriggerRunner, ALookedUpPodThePolicyDoesNotSelectCapturesNothing) {
  Fixture f;
  f.api.open();
  AuditTriggerRunner runner(f.policies, f.capture, f.snapshots, f.pods, f.window, f.hooks("database"));
  runner.onEvent(execOn("db-1"));
  EXPECT_TRUE(eventually([&] { return runner.pendingLookups() == 0; }));
  EXPECT_EQ(f.lookups.load(), 1);
  EXPECT_EQ(f.bundles(), 0u);
}

TEST(AuditTriggerRunner, EventsNoPolicyCouldMatchNeverReachTheApi) {
  Fixture f;
  f.api.open();
  AuditTriggerRunner runner(f.policies, f.capture, f.snapshots, f.pods, f.window, f.hooks("web"));
  auto list = execOn("web-3");
  list.verb = "get";
  list.subResource.clear();  // a plain GET of the pod: the trigger is about exec only
  EXPECT_EQ(runner.onEvent(list), 0u);
  EXPECT_EQ(runner.pendingLookups(), 0u);
  EXPECT_EQ(f.lookups.load(), 0);
}

}  // namespace
}  // namespace podmortem::controller
