// What an operator types, against the real server: every kustomize variant under manifests/
// rendered by kubectl and applied with a server-side dry run, and `kubectl get fp` / `kubectl
// get evs` printing the printer columns. Skipped when kubectl is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cluster.h"
#include "kube_checks.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

std::string kubectlPath() {
  auto found = runCommand("command -v kubectl");
  if (found.exitCode != 0) return "";
  std::string path = found.output;
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return path;
}

#define REQUIRE_KUBECTL()                                                              \
  REQUIRE_CLUSTER();                                                                   \
  if (kubectlPath().empty()) GTEST_SKIP() << "kubectl is not installed (it renders the " \
                                             "kustomizations); scripts/install-deps.sh "  \
                                             "does not install it"

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

// Stand-ins for the CRDs of the operators the optional components need (the Prometheus
// Operator's ServiceMonitor and PrometheusRule, cert-manager's Issuer and Certificate), so the
// server knows those kinds. They accept any spec: the objects' fields are checked by the
// schema tests in tests/deploy/, here the server checks everything else.
std::string standInCrd(const std::string& group, const std::string& kind,
                       const std::string& plural) {
  return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
         "metadata: {name: " + plural + "." + group + "}\n"
         "spec:\n  group: " + group + "\n  scope: Namespaced\n"
         "  names: {kind: " + kind + ", plural: " + plural + ", listKind: " + kind + "List, singular: " +
         [&] { std::string s; for (char c : kind) s += static_cast<char>(std::tolower(c)); return s; }() + "}\n"
         "  versions:\n  - name: v1\n    served: true\n    storage: true\n"
         "    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";
}

class Kubectl : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_KUBECTL();
    cluster_ = Cluster::instance();
    kubectl_ = kubectlPath() + " --kubeconfig " + quoted(cluster_->api().adminKubeconfig());
  }

  CommandResult kubectl(const std::string& arguments) {
    return runCommand(kubectl_ + " " + arguments + " 2>&1");
  }

  Cluster* cluster_ = nullptr;
  std::string kubectl_;
};

TEST_F(Kubectl, EveryRenderedKustomizeVariantPassesAServerSideDryRunApply) {
  auto& api = cluster_->api();
  for (const auto& [group, kind, plural] :
       std::vector<std::array<std::string, 3>>{{"monitoring.coreos.com", "ServiceMonitor", "servicemonitors"},
                                               {"monitoring.coreos.com", "PrometheusRule", "prometheusrules"},
                                               {"cert-manager.io", "Issuer", "issuers"},
                                               {"cert-manager.io", "Certificate", "certificates"}}) {
    for (const auto& answer : api.apply(standInCrd(group, kind, plural))) {
      ASSERT_TRUE(accepted(answer.status)) << answer.body;
    }
    ASSERT_TRUE(Cluster::waitFor([&, plural = plural, group = group] {
      auto crd = api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" +
                                        plural + "." + group).json();
      for (const auto& condition : field(crd, {"status", "conditions"}).is_array()
                                       ? crd["status"]["conditions"] : nlohmann::json::array()) {
        if (condition.value("type", "") == "Established") return condition.value("status", "") == "True";
      }
      return false;
    }, plural + " established"));
  }

  // As an operator combines them: the base with every optional Component (kustomize takes
  // relative paths only, so the overlay sits beside the sources' root).
  TempDir work;
  fs::path everything = work.path() / "everything";
  fs::create_directories(everything);
  fs::path manifests = sourcePath("manifests");
  fs::path relative = fs::relative(manifests, everything);
  writeFile(everything / "kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
            "  - " + (relative / "base").string() + "\ncomponents:\n"
            "  - " + (relative / "monitoring").string() + "\n"
            "  - " + (relative / "network-policy").string() + "\n"
            "  - " + (relative / "rbac/quarantine").string() + "\n"
            "  - " + (relative / "components/nats").string() + "\n");

  const std::vector<std::pair<std::string, fs::path>> variants = {
      {"crds", sourcePath("crds")},
      {"manifests (base)", manifests},
      {"manifests/overlays/cert-manager", manifests / "overlays/cert-manager"},
      {"manifests/overlays/kind", manifests / "overlays/kind"},
      {"manifests/monitoring", manifests / "monitoring"},
      {"manifests/network-policy", manifests / "network-policy"},
      {"manifests/rbac/quarantine", manifests / "rbac/quarantine"},
      {"base + every component", everything},
  };
  // --force-conflicts: the harness applied the RBAC and CRDs under a field manager of its own.
  // Before 1.25 the server knows no CEL rules and refuses them in a server-side apply; a user of
  // such a cluster applies client-side without kubectl's validation (README), so we do too.
  const std::string apply = cluster_->atLeast126()
                                ? "apply --server-side --force-conflicts --field-manager=podmortem-test --dry-run=server"
                                : "apply --validate=false --dry-run=server";
  // The other tests point the webhook configuration at a `url:` under their own field manager;
  // merged with the shipped `service:` that would be both, which the server refuses. A cluster
  // being installed has no such object: take it away for the dry runs, then put it back.
  const std::string webhookPath =
      "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/podmortem";
  auto existing = api.request("GET", webhookPath);
  if (existing.status == 200) {
    ASSERT_TRUE(accepted(api.request("DELETE", webhookPath).status));
  }
  for (const auto& [name, dir] : variants) {
    fs::path rendered = work.path() / "rendered.yaml";
    auto render = kubectl("kustomize " + quoted(dir) + " > " + quoted(rendered));
    ASSERT_EQ(render.exitCode, 0) << name << ": " << render.output;
    auto applied = kubectl(apply + " -f " + quoted(rendered));
    EXPECT_EQ(applied.exitCode, 0) << name << ":\n" << applied.output;
    size_t objects = 0;
    std::istringstream lines(applied.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("(server dry run)") != std::string::npos) ++objects;
    }
    EXPECT_GT(objects, 0u) << name << ":\n" << applied.output;
    std::cout << name << ": " << objects << " objects accepted by a server dry run\n";
  }
  if (existing.status == 200) {
    auto object = existing.json();
    for (const char* server : {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"}) {
      object["metadata"].erase(server);
    }
    auto restored = api.request("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                                object.dump());
    EXPECT_TRUE(accepted(restored.status)) << restored.body;
  }
}

TEST_F(Kubectl, GetFpAndGetEvsPrintThePrinterColumns) {
  auto& api = cluster_->api();
  for (const auto& answer : api.apply(R"(apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: kubectl-columns}
spec:
  match: {namespaces: [kubectl-columns]}
  triggers: [{name: on-delete, source: admission, operations: [DELETE], resources: [pods]}]
  actions: {snapshot: {collectors: [pod]}}
)")) {
    ASSERT_TRUE(accepted(answer.status)) << answer.body;
  }
  auto policies = kubectl("get fp kubectl-columns");
  EXPECT_EQ(policies.exitCode, 0) << policies.output;
  std::string header = policies.output.substr(0, policies.output.find('\n'));
  for (const char* column : {"NAME", "TRIGGERS", "ACTIONS", "READY", "MATCHES", "AGE"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in: " << policies.output;
  }
  EXPECT_NE(policies.output.find("kubectl-columns"), std::string::npos) << policies.output;
  api.request("DELETE", "/apis/podmortem.io/v1alpha1/forensicpolicies/kubectl-columns");

  for (const auto& answer : api.apply(R"(apiVersion: podmortem.io/v1alpha1
kind: EvidenceSnapshot
metadata: {name: 0123456789abcdef0123456789abcdef, namespace: podmortem-system}
spec:
  policy: kubectl-columns
  pod: {namespace: kubectl-columns, name: web-0}
  trigger: {source: admission, name: on-delete, operation: DELETE, user: admin}
)")) {
    ASSERT_TRUE(accepted(answer.status)) << answer.body;
  }
  auto snapshots = kubectl("get evs -n podmortem-system 0123456789abcdef0123456789abcdef");
  EXPECT_EQ(snapshots.exitCode, 0) << snapshots.output;
  header = snapshots.output.substr(0, snapshots.output.find('\n'));
  for (const char* column : {"NAME", "POD", "POLICY", "TRIGGER", "PHASE", "ARTIFACTS", "SIZE", "AGE"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in: " << snapshots.output;
  }
  EXPECT_NE(snapshots.output.find("web-0"), std::string::npos) << snapshots.output;
  api.request("DELETE", "/apis/podmortem.io/v1alpha1/namespaces/podmortem-system/evidencesnapshots/0123456789abcdef0123456789abcdef");
}

}  // namespace
}  // namespace podmortem::testing
