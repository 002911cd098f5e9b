#pragma once

// The one real kube-apiserver of this test binary, started before the first test and stopped
// after the last (a GoogleTest environment), with podmortem's CRDs, namespace and shipped RBAC
// applied, and its audit webhook pointed at the address the tests run podmortem on.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "kube_apiserver.h"
#include "server_process.h"
#include "test_support.h"

namespace podmortem::testing {

class Cluster {
 public:
  static Cluster* instance();  // null when the binaries are absent (the tests skip)
  static const std::string& skipReason();

  KubeApiserver& api() { return *api_; }
  const std::string& version() const { return version_; }
  bool atLeast126() const { return version_ != "1.21"; }

  // The address the API server sends audit batches to (podmortem must listen there), its token
  // and the serving certificate (signed by the cluster CA) podmortem must present.
  uint16_t podmortemPort() const { return podmortemPort_; }
  const std::string& auditToken() const { return auditToken_; }
  std::filesystem::path podmortemCertFile() const { return dir_ / "podmortem.crt"; }
  std::filesystem::path podmortemKeyFile() const { return dir_ / "podmortem.key"; }

  // podmortem in cluster mode as its own service account (bound only by the shipped RBAC),
  // in `home`, with `extra` configuration. `onWebhookPort`: listens where the API server sends
  // audit batches, with the cluster-signed certificate (else on a free port, certificates
  // managed through the Secret).
  std::unique_ptr<ServerProcess> podmortem(const std::filesystem::path& home,
                                           const std::string& extra, bool onWebhookPort);

  // Applies the shipped webhook configuration with `url:` pointing at podmortem on `port`.
  void applyWebhookConfiguration(uint16_t port, const std::string& caBundlePem = "");

  // Waits for `condition`; a failure message with the API server's log tail when it times out.
  static ::testing::AssertionResult waitFor(const std::function<bool()>& condition,
                                            const std::string& what,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  friend class ClusterEnvironment;
  void setUp(const EnvtestBinaries& binaries);

  TempDir home_;
  std::filesystem::path dir_;
  std::unique_ptr<KubeApiserver> api_;
  std::string version_;
  uint16_t podmortemPort_ = 0;
  std::string auditToken_;
};

#define REQUIRE_CLUSTER()                                   \
  if (::podmortem::testing::Cluster::instance() == nullptr) \
  GTEST_SKIP() << ::podmortem::testing::Cluster::skipReason()

}  // namespace podmortem::testing
