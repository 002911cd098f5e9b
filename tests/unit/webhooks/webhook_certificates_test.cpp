// The webhook certificate kept in a Secret, against the fake API server.
#include "podmortem/webhooks/webhook_certificates.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "fake_api_server.h"
#include "podmortem/kube/rest_client.h"
#include "podmortem/webhooks/certificate_info.h"
#include "test_support.h"

namespace podmortem::webhooks {
namespace {

using nlohmann::json;
using testing::FakeApiServer;
using testing::readFile;
using testing::TempDir;

std::string decode(const std::string& text) {
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  size_t padding = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

json webhookConfiguration() {
  return {{"apiVersion", "admissionregistration.k8s.io/v1"}, {"kind", "ValidatingWebhookConfiguration"},
          {"metadata", {{"name", "podmortem"}}},
          {"webhooks", {{{"name", "pods.podmortem.io"},
                         {"clientConfig", {{"service", {{"namespace", "podmortem-system"}, {"name", "podmortem"}}}}},
                         {"failurePolicy", "Ignore"}}}}};
}

struct Replica {
  TempDir dir;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<WebhookCertificates> certificates;

  explicit Replica(const FakeApiServer& api) {
    kube::Connection connection;
    connection.server = api.url();
    connection.caPem = api.caPem();
    client = kube::makeRestClient(connection, {}, nullptr);
    WebhookCertificates::Options options;
    options.namespaceName = "podmortem-system";
    options.dnsNames = {"podmortem.podmortem-system.svc"};
    options.dir = dir.str();
    certificates = std::make_unique<WebhookCertificates>(*client, options);
  }
};

TEST(WebhookCertificatesTest, MissingSecretIsCreatedAndTheCaGoesIntoTheCaBundle) {
  FakeApiServer api;
  api.put("admissionregistration.k8s.io/validatingwebhookconfigurations", webhookConfiguration());
  Replica replica(api);
  ASSERT_TRUE(replica.certificates->sync().ok());
  auto secret = api.get("/secrets", "podmortem-system", "podmortem-webhook-tls");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ((*secret)["type"], "kubernetes.io/tls");
  auto files = replica.certificates->files();
  EXPECT_EQ(decode((*secret)["data"]["tls.crt"]), readFile(files.certFile));
  EXPECT_EQ(decode((*secret)["data"]["ca.crt"]), readFile(files.caFile));
  auto config = api.get("admissionregistration.k8s.io/validatingwebhookconfigurations", "", "podmortem");
  EXPECT_EQ(decode((*config)["webhooks"][0]["clientConfig"]["caBundle"]), readFile(files.caFile));
  EXPECT_EQ((*config)["webhooks"][0]["failurePolicy"], "Ignore") << "nothing else is touched";
  EXPECT_EQ(std::filesystem::status(files.keyFile).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST(WebhookCertificatesTest, ASecondReplicaServesTheSameCertificate) {
  FakeApiServer api;
  api.put("admissionregistration.k8s.io/validatingwebhookconfigurations", webhookConfiguration());
  Replica first(api);
  Replica second(api);
  ASSERT_TRUE(first.certificates->sync().ok());
  ASSERT_TRUE(second.certificates->sync().ok());
  EXPECT_EQ(readFile(first.certificates->files().certFile), readFile(second.certificates->files().certFile));
  EXPECT_EQ(readFile(first.certificates->files().caFile), readFile(second.certificates->files().caFile));
  EXPECT_EQ(api.requestCount("POST /api/v1/namespaces/podmortem-system/secrets"), 1u);
}

TEST(WebhookCertificatesTest, ACertificateCloseToExpiryIsRenewedUnderTheSameCa) {
  FakeApiServer api;
  api.put("admissionregistration.k8s.io/validatingwebhookconfigurations", webhookConfiguration());
  Replica replica(api);
  ASSERT_TRUE(replica.certificates->sync().ok());
  // Replace the serving certificate in the Secret with one (same CA) that expires in 2 days.
  TempDir work;
  auto files = replica.certificates->files();
  std::string d = work.str();
  std::string caKey = (std::filesystem::path(files.caFile).parent_path() / "ca.key").string();
  auto made = testing::runCommand(
      "set -e; cd " + d + "; openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-subj /CN=podmortem -keyout tls.key -out tls.csr 2>/dev/null; "
      "printf 'subjectAltName=DNS:localhost,DNS:podmortem.podmortem-system.svc,IP:127.0.0.1\\n' > ext; "
      "openssl x509 -req -in tls.csr -CA " + files.caFile + " -CAkey " + caKey +
      " -CAcreateserial -days 2 -extfile ext -out tls.crt 2>/dev/null");
  ASSERT_EQ(made.exitCode, 0) << made.output;
  auto secret = *api.get("/secrets", "podmortem-system", "podmortem-webhook-tls");
  auto b64 = [](const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    out.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                                   reinterpret_cast<const unsigned char*>(bytes.data()),
                                                   static_cast<int>(bytes.size()))));
    return out;
  };
  secret["data"]["tls.crt"] = b64(readFile(work.path() / "tls.crt"));
  secret["data"]["tls.key"] = b64(readFile(work.path() / "tls.key"));
  std::string ca = secret["data"]["ca.crt"];
  api.put("/secrets", secret);
  ASSERT_TRUE(replica.certificates->sync().ok());
  auto renewed = *api.get("/secrets", "podmortem-system", "podmortem-webhook-tls");
  EXPECT_EQ(renewed["data"]["ca.crt"], ca) << "the CA stays, so the caBundle stays valid";
  auto notAfter = certificateNotAfterPem(decode(renewed["data"]["tls.crt"]));
  ASSERT_TRUE(notAfter.has_value());
  EXPECT_GT(*notAfter, std::chrono::system_clock::now() + std::chrono::hours(24 * 300));
  EXPECT_EQ(readFile(replica.certificates->files().certFile), decode(renewed["data"]["tls.crt"]));
}

TEST(WebhookCertificatesTest, ACaBundleResetByKubectlApplyIsWrittenAgain) {
  FakeApiServer api;
  api.put("admissionregistration.k8s.io/validatingwebhookconfigurations", webhookConfiguration());
  Replica replica(api);
  ASSERT_TRUE(replica.certificates->sync().ok());
  api.put("admissionregistration.k8s.io/validatingwebhookconfigurations", webhookConfiguration());
  ASSERT_TRUE(replica.certificates->sync().ok());
  auto config = api.get("admissionregistration.k8s.io/validatingwebhookconfigurations", "", "podmortem");
  EXPECT_EQ(decode((*config)["webhooks"][0]["clientConfig"]["caBundle"]),
            readFile(replica.certificates->files().caFile));
}

TEST(WebhookCertificatesTest, WithTheApiDownALocalCertificateIsServedAndTheErrorSaid) {
  FakeApiServer api;
  api.setDown(true);
  Replica replica(api);
  auto synced = replica.certificates->sync();
  ASSERT_FALSE(synced.ok());
  EXPECT_EQ(synced.error().code, core::ErrorCode::kUnavailable);
  const std::string& error = synced.error().message;
  EXPECT_NE(error.find("reading Secret podmortem-webhook-tls"), std::string::npos) << error;
  EXPECT_TRUE(certificateNotAfter(replica.certificates->files().certFile).has_value());
}

}  // namespace
}  // namespace podmortem::webhooks
