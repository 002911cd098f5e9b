// The informer against the fake API server: it must end equal to the server's state whatever
// happens to the watch (closed streams, 410 Gone inside the watch, the API server down).
#include "podmortem/kube/informer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "fake_api_server.h"
#include "podmortem/kube/rest_client.h"
#include "test_support.h"

namespace podmortem::controller {
namespace {

using nlohmann::json;
using testing::eventually;
using testing::FakeApiServer;

constexpr const char* kPolicies = "podmortem.io/forensicpolicies";
constexpr const char* kPath = "/apis/podmortem.io/v1alpha1/forensicpolicies";

json policy(const std::string& name, const std::string& hold = "10s") {
  return {{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "ForensicPolicy"},
          {"metadata", {{"name", name}}},
          {"spec", {{"triggers", {{{"source", "admission"}, {"operations", {"DELETE"}}, {"resources", {"pods"}}}}},
                    {"actions", {{"snapshot", {{"holdDeletion", hold}}}}}}}};
}

// What the informer last published, by name, with the spec's hold.
class Seen {
 public:
  void update(const std::vector<json>& objects) {
    std::lock_guard lock(mutex_);
    names_.clear();
    for (const auto& object : objects) {
      names_[object["metadata"]["name"]] = object["spec"]["actions"]["snapshot"]["holdDeletion"];
    }
    ++updates_;
  }
  std::map<std::string, std::string> names() const {
    std::lock_guard lock(mutex_);
    return names_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> names_;
  int updates_ = 0;
};

std::map<std::string, std::string> serverState(const FakeApiServer& server) {
  std::map<std::string, std::string> names;
  for (const auto& object : server.list(kPolicies)) {
    names[object["metadata"]["name"]] = object["spec"]["actions"]["snapshot"]["holdDeletion"];
  }
  return names;
}

struct Fixture {
  FakeApiServer server;
  prometheus::Registry registry;
  kube::Metrics metrics{registry};
  std::unique_ptr<kube::Client> client;
  Seen seen;
  std::unique_ptr<kube::Informer> informer;

  explicit Fixture(std::chrono::seconds watchTimeout = std::chrono::seconds(60)) {
    kube::Connection connection;
    connection.server = server.url();
    connection.caPem = server.caPem();
    client = kube::makeRestClient(connection, {.qps = 1000, .burst = 1000}, &metrics);
    kube::Informer::Options options;
    options.path = kPath;
    options.resource = "forensicpolicies";
    options.watchTimeout = watchTimeout;
    options.initialBackoff = std::chrono::milliseconds(50);
    options.maxBackoff = std::chrono::milliseconds(500);
    informer = std::make_unique<kube::Informer>(
        *client, options, [this](const std::vector<json>& objects) { seen.update(objects); }, &metrics);
  }

  bool converged() { return seen.names() == serverState(server); }
  double restarts(const std::string& reason) {
    return metrics.watchRestarts.Add({{"resource", "forensicpolicies"}, {"reason", reason}}).Value();
  }
};

TEST(InformerTest, ListsThenFollowsAddsUpdatesAndDeletes) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.server.put(kPolicies, policy("b"));
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.informer->synced() && f.converged(); }));
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1; }));
  f.server.put(kPolicies, policy("c"));
  f.server.put(kPolicies, policy("a", "20s"));
  f.server.remove(kPolicies, "", "b");
  ASSERT_TRUE(eventually([&] { return f.converged(); }));
  EXPECT_EQ(f.seen.names(), (std::map<std::string, std::string>{{"a", "20s"}, {"c", "10s"}}));
  EXPECT_EQ(f.informer->lists(), 1u) << "following a watch needs no second list";
  auto requests = f.server.requests();
  bool bookmarksAsked = std::any_of(requests.begin(), requests.end(), [](const std::string& r) {
    return r.find("watch=1&allowWatchBookmarks=true") != std::string::npos;
  });
  EXPECT_TRUE(bookmarksAsked);
}

TEST(InformerTest, BookmarkMovesTheResourceVersionOn) {
  Fixture f;
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1; }));
  std::string before = f.informer->resourceVersion();
  f.server.put("podmortem.io/evidencesnapshots", {{"metadata", {{"name", "x"}, {"namespace", "n"}}}});
  f.server.bookmark();
  ASSERT_TRUE(eventually([&] { return f.informer->resourceVersion() != before; }));
}

TEST(InformerTest, SurvivesTheServerClosingTheStream) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1 && f.converged(); }));
  f.server.closeWatches();
  ASSERT_TRUE(eventually([&] { return f.restarts("closed") >= 1; }));
  f.server.put(kPolicies, policy("b"));
  ASSERT_TRUE(eventually([&] { return f.converged(); }));
  EXPECT_EQ(f.informer->lists(), 1u) << "a closed stream is re-watched from its version";
}

TEST(InformerTest, RelistsAfter410GoneInsideTheWatch) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1 && f.converged(); }));
  // While the stream is down the history is compacted: the re-watch from the old version gets
  // HTTP 200 and an ERROR event with code 410, as the recorded kube-apiserver sends it.
  f.server.setDown(true);
  f.server.put(kPolicies, policy("b"));
  f.server.remove(kPolicies, "", "a");
  f.server.compact();
  f.server.setDown(false);
  ASSERT_TRUE(eventually([&] { return f.informer->lists() >= 2 && f.converged(); }));
  EXPECT_GE(f.restarts("expired"), 1);
  EXPECT_EQ(f.seen.names(), (std::map<std::string, std::string>{{"b", "10s"}}));
}

TEST(InformerTest, EndsEqualToTheServerAfterTheApiWasDown) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.server.put(kPolicies, policy("b"));
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1 && f.converged(); }));
  f.server.setDown(true);
  auto downSince = std::chrono::steady_clock::now();
  f.server.remove(kPolicies, "", "a");
  f.server.put(kPolicies, policy("b", "25s"));
  f.server.put(kPolicies, policy("c"));
  // The outage is the scenario under test (the ten-second one is in kube_policy_source_test):
  // refused connections, during which the informer keeps retrying with backoff.
  std::this_thread::sleep_until(downSince + std::chrono::seconds(2));
  f.server.setDown(false);
  ASSERT_TRUE(eventually([&] { return f.converged(); }, std::chrono::seconds(15)));
  EXPECT_EQ(f.seen.names(), (std::map<std::string, std::string>{{"b", "25s"}, {"c", "10s"}}));
  EXPECT_GE(f.restarts("error") + f.restarts("closed"), 1);
}

TEST(InformerTest, FailedListIsRetriedWithBackoff) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.server.failNext(3, 500);
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.informer->synced() && f.converged(); }));
  EXPECT_GE(f.metrics.requests.Add({{"verb", "list"}, {"resource", "forensicpolicies"}, {"code", "500"}}).Value(), 3);
}

TEST(InformerTest, StopReturnsPromptlyWhileAWatchIsOpen) {
  Fixture f;
  f.informer->start();
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1; }));
  auto started = std::chrono::steady_clock::now();
  f.informer->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace podmortem::controller
