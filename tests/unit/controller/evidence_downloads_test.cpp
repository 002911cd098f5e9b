// EvidenceDownloads against the fake API server: a request for a snapshot this replica holds is
// answered with a token good for one GET of the bundle; one for a snapshot nobody recorded fails;
// an expired token is refused and its object deleted.
#include "podmortem/controller/evidence_downloads.h"

#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include "fake_api_server.h"
#include "podmortem/core/sha256.h"
#include "podmortem/evidence/bundle_archive.h"
#include "podmortem/kube/rest_client.h"
#include "test_support.h"

namespace podmortem::controller {
namespace {

using nlohmann::json;
using testing::eventually;

constexpr const char* kDownloads = "podmortem.io/evidencedownloads";
constexpr const char* kSnapshots = "podmortem.io/evidencesnapshots";
constexpr const char* kId = "0123456789abcdef0123456789abcdef";

struct Fixture {
  testing::FakeApiServer server{testing::FakeApiServer::Options{
      .statusSubresource = {kSnapshots, kDownloads}}};
  testing::TempDir evidence;
  std::unique_ptr<kube::Client> client;
  prometheus::Registry registry;
  ClusterMetrics metrics{registry};

  Fixture() {
    kube::Connection connection;
    connection.server = server.url();
    connection.caPem = server.caPem();
    client = kube::makeRestClient(connection, {.qps = 1000, .burst = 1000}, nullptr);
    const auto bundle = evidence.path() / "shop" / "web-0" / kId;
    testing::writeFile(bundle / "manifest.json", "{\"kind\":\"EvidenceManifest\"}\n");
    testing::writeFile(bundle / "pod.json", "{}\n");
    server.put(kSnapshots, {{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "EvidenceSnapshot"},
                            {"metadata", {{"name", kId}, {"namespace", "podmortem-system"}}},
                            {"spec", {{"pod", {{"namespace", "shop"}, {"name", "web-0"}}}, {"replica", "podmortem-0"}}},
                            {"status", {{"bundle", {{"location", "file://" + bundle.string()},
                                                    {"manifestSHA256", core::sha256Hex("{\"kind\":\"EvidenceManifest\"}\n")}}}}}});
  }

  EvidenceDownloads::Options options(std::chrono::milliseconds ttl) const {
    EvidenceDownloads::Options options;
    options.replica = "podmortem-0";
    options.evidenceDir = evidence.path().string();
    options.downloadPort = 8444;
    options.tokenTtl = ttl;
    options.expiredGrace = std::chrono::milliseconds(0);
    return options;
  }

  void request(const std::string& name, const std::string& snapshot) {
    server.put(kDownloads, {{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "EvidenceDownload"},
                            {"metadata", {{"name", name}, {"namespace", "podmortem-system"}}},
                            {"spec", {{"snapshot", snapshot}}}});
  }

  json status(const std::string& name) const {
    auto object = server.get(kDownloads, "podmortem-system", name);
    return object && object->contains("status") ? (*object)["status"] : json::object();
  }
};

TEST(EvidenceDownloads, AnswersWithATokenGoodForOneDownloadOfTheBundle) {
  Fixture fixture;
  fixture.request("mine", kId);
  fixture.request("nobodys", "ffffffffffffffffffffffffffffffff");
  EvidenceDownloads downloads(*fixture.client, fixture.options(std::chrono::minutes(5)), fixture.metrics, nullptr);
  downloads.start();
  ASSERT_TRUE(eventually([&] { return fixture.status("mine").value("phase", "") == "Ready"; }));
  json status = fixture.status("mine");
  EXPECT_EQ(status["replica"], "podmortem-0");
  EXPECT_EQ(status["path"], std::string("/evidence/") + kId);
  EXPECT_EQ(status["proxyPath"], std::string("/api/v1/namespaces/podmortem-system/pods/https:podmortem-0:8444/proxy/evidence/") + kId);
  EXPECT_EQ(status["manifestSHA256"], core::sha256Hex("{\"kind\":\"EvidenceManifest\"}\n"));
  const std::string token = status["token"];
  EXPECT_EQ(token.size(), 64u);

  EXPECT_EQ(downloads.serve(kId, "not-the-token").status, 401u);
  auto served = downloads.serve(kId, token);
  ASSERT_EQ(served.status, 200u) << served.body;
  EXPECT_EQ(served.contentType, "application/x-tar");
  testing::TempDir out;
  auto root = evidence::extractBundle(served.body, out.path().string());
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(testing::readFile(std::filesystem::path(*root) / "pod.json"), "{}\n");
  auto again = downloads.serve(kId, token);
  EXPECT_EQ(again.status, 401u) << "one download per token";
  EXPECT_NE(again.body.find("create a new EvidenceDownload"), std::string::npos) << again.body;

  ASSERT_TRUE(eventually([&] { return fixture.status("nobodys").value("phase", "") == "Failed"; }))
      << ::testing::PrintToString(fixture.server.requests());
  EXPECT_NE(fixture.status("nobodys").value("message", "").find("no EvidenceSnapshot"), std::string::npos);
  downloads.stop();
}

TEST(EvidenceDownloads, AnExpiredTokenIsRefusedAndItsObjectDeleted) {
  Fixture fixture;
  fixture.request("late", kId);
  // Issued already expired, and kept a while after: the refusal, without waiting for a clock.
  auto options = fixture.options(std::chrono::milliseconds(0));
  options.expiredGrace = std::chrono::hours(1);
  {
    EvidenceDownloads downloads(*fixture.client, options, fixture.metrics, nullptr);
    downloads.start();
    ASSERT_TRUE(eventually([&] { return fixture.status("late").value("phase", "") == "Ready"; }));
    const std::string token = fixture.status("late").value("token", "");
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(downloads.serve(kId, token).status, 401u) << "expired";
    EXPECT_TRUE(fixture.server.get(kDownloads, "podmortem-system", "late").has_value()) << "kept during the grace";
  }
  // Past the grace, the object goes.
  options.expiredGrace = std::chrono::milliseconds(0);
  EvidenceDownloads downloads(*fixture.client, options, fixture.metrics, nullptr);
  downloads.start();
  ASSERT_TRUE(eventually([&] { return !fixture.server.get(kDownloads, "podmortem-system", "late").has_value(); }))
      << "an expired EvidenceDownload is deleted";
}

}  // namespace
}  // namespace podmortem::controller
