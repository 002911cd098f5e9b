#include "podmortem/kube/connection.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "test_support.h"

namespace podmortem::controller {
namespace {

using testing::TempDir;
using testing::writeFile;

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: kind-dev
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority: ca/prod.crt
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: dev-admin, namespace: forensics}
- name: prod
  context: {cluster: prod, user: prod-sa}
- name: laptop-sso
  context: {cluster: prod, user: sso}
users:
- name: dev-admin
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: prod-sa
  user:
    tokenFile: secrets/token
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubelogin
)";

TEST(KubeconfigTest, CurrentContextWithInlineDataIsDecoded) {
  TempDir dir;
  writeFile(dir.path() / "config", kKubeconfig);
  auto connection = kube::kubeconfigConnection((dir.path() / "config").string());
  EXPECT_EQ(connection.server, "https://127.0.0.1:6443");
  EXPECT_EQ(connection.caPem,
            "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(connection.clientCertPem, "cert");
  EXPECT_EQ(connection.clientKeyPem, "key");
  EXPECT_EQ(connection.namespaceName, "forensics");
  EXPECT_NE(connection.source.find("context kind-dev"), std::string::npos);
}

TEST(KubeconfigTest, FilesAreRelativeToTheKubeconfigFolder) {
  TempDir dir;
  writeFile(dir.path() / "config", kKubeconfig);
  writeFile(dir.path() / "ca" / "prod.crt", "PROD CA");
  auto connection = kube::kubeconfigConnection((dir.path() / "config").string(), "prod");
  EXPECT_EQ(connection.caPem, "PROD CA");
  EXPECT_EQ(connection.tokenFile, (dir.path() / "secrets/token").string());
}

TEST(KubeconfigTest, ExecCredentialPluginIsRefusedClearly) {
  TempDir dir;
  writeFile(dir.path() / "config", kKubeconfig);
  try {
    kube::kubeconfigConnection((dir.path() / "config").string(), "laptop-sso");
    FAIL() << "an exec plugin must be refused";
  } catch (const kube::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("exec credential plugin"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("not support"), std::string::npos);
  }
}

TEST(KubeconfigTest, UnknownContextAndMissingFilesNameTheProblem) {
  TempDir dir;
  writeFile(dir.path() / "config", kKubeconfig);
  EXPECT_THROW(kube::kubeconfigConnection((dir.path() / "config").string(), "nope"), kube::ConfigError);
  EXPECT_THROW(kube::kubeconfigConnection((dir.path() / "config").string(), "prod"), kube::ConfigError)
      << "ca/prod.crt does not exist";
  EXPECT_THROW(kube::kubeconfigConnection((dir.path() / "missing").string()), kube::ConfigError);
  writeFile(dir.path() / "bad", "clusters: [");
  EXPECT_THROW(kube::kubeconfigConnection((dir.path() / "bad").string()), kube::ConfigError);
}

TEST(InClusterTest, ServiceAccountFilesAndServiceEnvironmentMakeAConnection) {
  TempDir dir;
  writeFile(dir.path() / "token", "sa-token");
  writeFile(dir.path() / "ca.crt", "CLUSTER CA");
  writeFile(dir.path() / "namespace", "podmortem-system\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto connection = kube::inClusterConnection(dir.str());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(connection.has_value());
  EXPECT_EQ(connection->server, "https://10.96.0.1:443");
  EXPECT_EQ(connection->caPem, "CLUSTER CA");
  EXPECT_EQ(connection->tokenFile, (dir.path() / "token").string());
  EXPECT_TRUE(connection->token.empty()) << "the token is read per request, so rotation works";
  EXPECT_EQ(connection->namespaceName, "podmortem-system");
}

TEST(InClusterTest, OutsideAPodThereIsNoInClusterConnection) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  TempDir dir;
  EXPECT_FALSE(kube::inClusterConnection(dir.str()).has_value());
}

}  // namespace
}  // namespace podmortem::controller
