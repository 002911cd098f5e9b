// The CustomResourceDefinitions on a real API server: established, printer columns served,
// every example accepted, and invalid policies refused by the server itself (on 1.26 the CEL
// rules too; 1.21 knows no CEL and takes those).
#include <gtest/gtest.h>

#include <filesystem>

#include "cluster.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTable = "application/json;as=Table;v=v1;g=meta.k8s.io";

std::vector<std::string> columnsOf(KubeApiserver& api, const std::string& path) {
  auto response = api.request("GET", path, "", "");
  // The Table form, as kubectl asks for it.
  HttpClient client(api.port(), ClientOptions{api.caFile(), (api.dir() / "admin.crt").string(),
                                               (api.dir() / "admin.key").string()});
  auto table = nlohmann::json::parse(
      client.request("GET", path, "", "", {{"Accept", kTable}}).body, nullptr, false);
  std::vector<std::string> names;
  for (const auto& column : table.value("columnDefinitions", nlohmann::json::array())) {
    names.push_back(column.value("name", ""));
  }
  return names;
}

// A valid policy with one line replaced: `from` must occur in it.
std::string variant(const std::string& from, const std::string& to) {
  std::string policy = R"(apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata:
  name: variant
spec:
  match:
    namespaces: [shop]
  triggers:
    - name: on-delete
      source: admission
      operations: [DELETE]
      resources: [pods]
  correlation:
    window: 30m
  actions:
    snapshot:
      collectors: [pod, auditTrail]
      holdDeletion: 10s
)";
  auto at = policy.find(from);
  if (at == std::string::npos) throw std::logic_error("no '" + from + "' in the policy");
  return policy.replace(at, from.size(), to);
}

TEST(Crds, AreEstablishedAndServeThePrinterColumnsKubectlShows) {
  REQUIRE_CLUSTER();
  auto& api = Cluster::instance()->api();
  EXPECT_EQ(columnsOf(api, "/apis/podmortem.io/v1alpha1/forensicpolicies"),
            (std::vector<std::string>{"Name", "Triggers", "Actions", "Ready", "Matches", "Age"}));
  auto snapshots = columnsOf(api, "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots");
  ASSERT_FALSE(snapshots.empty());
  EXPECT_EQ(snapshots.front(), "Name");
  EXPECT_NE(std::find(snapshots.begin(), snapshots.end(), "Phase"), snapshots.end());
}

TEST(Crds, EveryExampleAndSampleIsAcceptedByTheServer) {
  REQUIRE_CLUSTER();
  auto& api = Cluster::instance()->api();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(sourcePath("examples/policies"))) {
    files.push_back(entry.path());
  }
  files.push_back(sourcePath("crds/samples/evidencesnapshot.yaml"));
  for (const auto& file : files) {
    for (const auto& answer : api.apply(readFile(file), /*dryRun=*/true)) {
      EXPECT_TRUE(answer.status == 200 || answer.status == 201)
          << file.filename() << ": " << answer.status << " " << answer.body;
    }
  }
}

TEST(Crds, TheServerRefusesInvalidPolicies) {
  REQUIRE_CLUSTER();
  auto* cluster = Cluster::instance();
  auto& api = cluster->api();
  auto base = api.apply(variant("name: variant", "name: variant"), true).at(0);
  ASSERT_TRUE(base.status == 200 || base.status == 201) << "the base variant is valid: " << base.body;
  struct Case {
    const char* what;
    std::string policy;
    bool needsCel;  // only a 1.25+ server judges it
  };
  std::vector<Case> cases = {
      {"no triggers", variant("  triggers:\n    - name: on-delete\n      source: admission\n"
                              "      operations: [DELETE]\n      resources: [pods]\n", ""),
       false},
      {"an unknown trigger source", variant("source: admission", "source: kubelet"), false},
      {"a namespace that is not a DNS label", variant("[shop]", "[Shop_1]"), false},
      {"a window that is not a duration", variant("window: 30m", "window: soon"), false},
      {"a 45s holdDeletion (at most 30s)", variant("holdDeletion: 10s", "holdDeletion: 45s"), true},
      {"a zero window", variant("window: 30m", "window: 0s"), true},
  };
  for (const auto& one : cases) {
    auto answer = api.apply(one.policy, true).at(0);
    if (one.needsCel && !cluster->atLeast126()) {
      EXPECT_TRUE(answer.status == 200 || answer.status == 201)
          << one.what << ": 1.21 has no CEL and takes it: " << answer.body;
      continue;
    }
    EXPECT_EQ(answer.status, 422u) << one.what << ": " << answer.body;
    EXPECT_EQ(answer.json().value("reason", ""), "Invalid") << one.what;
  }
}

}  // namespace
}  // namespace podmortem::testing
