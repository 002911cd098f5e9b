// ForensicPolicy objects watched into the policy store: whatever happens to the watch, the store
// ends holding exactly the server's valid policies.
#include "podmortem/controller/kube_policy_source.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "fake_api_server.h"
#include "podmortem/kube/rest_client.h"
#include "test_support.h"

namespace podmortem::controller {
namespace {

using nlohmann::json;
using testing::eventually;

constexpr const char* kPolicies = "podmortem.io/forensicpolicies";

json policy(const std::string& name, const std::string& onTimeout = "allow") {
  return {{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "ForensicPolicy"},
          {"metadata", {{"name", name}}},
          {"spec", {{"triggers", {{{"source", "admission"}, {"operations", {"DELETE"}}, {"resources", {"pods"}}}}},
                    {"actions", {{"snapshot", {{"onTimeout", onTimeout}}}}}}}};
}

struct Fixture {
  testing::FakeApiServer server;
  std::unique_ptr<kube::Client> client;
  policy::PolicyStore store;
  std::unique_ptr<KubePolicySource> source;

  Fixture() {
    kube::Connection connection;
    connection.server = server.url();
    connection.caPem = server.caPem();
    client = kube::makeRestClient(connection, {.qps = 1000, .burst = 1000}, nullptr);
    source = std::make_unique<KubePolicySource>(*client, store, nullptr);
  }

  std::set<std::string> storeNames() const {
    std::set<std::string> names;
    for (const auto& p : store.current()->policies()) names.insert(p->name);
    return names;
  }
  // The server's policies that are valid (onTimeout allow or deny).
  std::set<std::string> serverNames() const {
    std::set<std::string> names;
    for (const auto& object : server.list(kPolicies)) {
      std::string onTimeout = object["spec"]["actions"]["snapshot"]["onTimeout"];
      if (onTimeout == "allow" || onTimeout == "deny") names.insert(object["metadata"]["name"]);
    }
    return names;
  }
  bool converged() const { return storeNames() == serverNames(); }
};

TEST(KubePolicySourceTest, ValidObjectsArePublishedAndInvalidOnesAreProblemsOfTheirOwn) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.server.put(kPolicies, policy("broken", "sometimes"));
  f.source->start();
  ASSERT_TRUE(eventually([&] { return f.source->synced() && f.converged(); }));
  EXPECT_EQ(f.storeNames(), std::set<std::string>{"a"});
  auto problems = f.store.problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].source, "ForensicPolicy/broken");
  EXPECT_EQ(problems[0].fieldPath, "spec.actions.snapshot.onTimeout");
  EXPECT_EQ(f.store.invalidCount(), 1u);
}

TEST(KubePolicySourceTest, FilesAndObjectsAreOneSetAndAFileWinsANameClash) {
  Fixture f;
  policy::LoadResult files;
  files.policies.push_back(std::make_shared<policy::Policy>(policy::Policy{.name = "a", .source = "a.yaml"}));
  f.store.replace(files);
  f.server.put(kPolicies, policy("a"));
  f.server.put(kPolicies, policy("b"));
  f.source->start();
  ASSERT_TRUE(eventually([&] { return f.storeNames() == std::set<std::string>{"a", "b"}; }));
  EXPECT_EQ(f.store.current()->find("a")->source, "a.yaml");
  auto problems = f.store.problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].reason.find("duplicate policy name"), std::string::npos);
}

TEST(KubePolicySourceTest, StoreEndsEqualToTheServerAfterAClosedStreamA410AndTenSecondsDown) {
  Fixture f;
  f.server.put(kPolicies, policy("a"));
  f.source->start();
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1 && f.converged(); }));

  // 1. The server ends the stream (as it does at every watch timeout).
  f.server.closeWatches();
  f.server.put(kPolicies, policy("b"));
  ASSERT_TRUE(eventually([&] { return f.converged(); }));

  // 2. 410 Gone inside the watch: history compacted while the stream was away.
  f.server.setDown(true);
  f.server.remove(kPolicies, "", "a");
  f.server.put(kPolicies, policy("c"));
  f.server.compact();
  f.server.setDown(false);
  ASSERT_TRUE(eventually([&] { return f.converged(); }));
  EXPECT_EQ(f.storeNames(), (std::set<std::string>{"b", "c"}));

  // 3. The API server down for ten seconds while policies change.
  ASSERT_TRUE(eventually([&] { return f.server.openWatches() == 1; })) << [&] {
    std::string text = "open watches: " + std::to_string(f.server.openWatches()) + "\n";
    for (const auto& r : f.server.requests()) text += r + "\n";
    return text;
  }();
  f.server.setDown(true);
  auto downSince = std::chrono::steady_clock::now();
  f.server.remove(kPolicies, "", "b");
  f.server.put(kPolicies, policy("c", "deny"));
  f.server.put(kPolicies, policy("d"));
  f.server.put(kPolicies, policy("e", "never"));  // invalid: must not appear
  std::this_thread::sleep_until(downSince + std::chrono::seconds(10));  // the outage itself
  EXPECT_EQ(f.storeNames(), (std::set<std::string>{"b", "c"})) << "while down: the last known set";
  f.server.setDown(false);
  ASSERT_TRUE(eventually([&] { return f.converged(); }, std::chrono::seconds(20)));
  EXPECT_EQ(f.storeNames(), (std::set<std::string>{"c", "d"}));
  EXPECT_EQ(f.store.current()->find("c")->actions.snapshot->onTimeout, policy::OnTimeout::kDeny);
}

}  // namespace
}  // namespace podmortem::controller
