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
  downloads.setDownloadPort(8444);
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

// A token is no good for a bundle too large to archive in memory, nor for one whose artifacts left
// for S3 after the token was given: clear refusals, nothing half-served.
TEST(EvidenceDownloads, ATooLargeOrMovedBundleIsRefusedWithWhatToDo) {
  Fixture fixture;
  fixture.request("big", kId);
  auto options = fixture.options(std::chrono::minutes(5));
  options.maxBundleBytes = 4;
  EvidenceDownloads downloads(*fixture.client, options, fixture.metrics, nullptr);
  downloads.start();
  ASSERT_TRUE(eventually([&] { return fixture.status("big").value("phase", "") == "Ready"; }));
  auto tooLarge = downloads.serve(kId, fixture.status("big").value("token", ""));
  EXPECT_EQ(tooLarge.status, 413u);
  EXPECT_NE(tooLarge.body.find("download.maxBundleBytes"), std::string::npos) << tooLarge.body;
  downloads.stop();

  fixture.request("moved", kId);
  EvidenceDownloads again(*fixture.client, fixture.options(std::chrono::minutes(5)), fixture.metrics, nullptr);
  again.start();
  ASSERT_TRUE(eventually([&] { return fixture.status("moved").value("phase", "") == "Ready"; }));
  testing::writeFile(fixture.evidence.path() / "shop" / "web-0" / kId / "uploaded.json", "{}");
  auto moved = again.serve(kId, fixture.status("moved").value("token", ""));
  EXPECT_EQ(moved.status, 409u);
  EXPECT_NE(moved.body.find("moved to S3"), std::string::npos) << moved.body;
  again.stop();
}

// A bundle in S3 whose replica is gone (no folder on this volume): any replica that can sign
// answers with pre-signed URLs of the manifest, the stored artifacts and, if it is there, the
// attestation.
TEST(EvidenceDownloads, ABundleInS3IsAnsweredWithPresignedUrlsByAnyReplica) {
  Fixture fixture;
  const std::string id = "abcdefabcdefabcdefabcdefabcdefab";
  fixture.server.put(kSnapshots, {{"apiVersion", "podmortem.io/v1alpha1"}, {"kind", "EvidenceSnapshot"},
                                  {"metadata", {{"name", id}, {"namespace", "podmortem-system"}}},
                                  {"spec", {{"pod", {{"namespace", "shop"}, {"name", "web-1"}}}, {"replica", "podmortem-9"}}},
                                  {"status", {{"bundle", {{"location", "s3://evidence/podmortem/shop/web-1/" + id}}},
                                              {"artifacts", {{{"path", "pod.json"}, {"sha256", std::string(64, 'a')}},
                                                             {{"path", "logs/app.log"}, {"error", "404"}}}}}}});
  fixture.request("from-s3", id);
  auto options = fixture.options(std::chrono::minutes(5));
  std::string signedFor;
  options.presign = [&](const std::string& url, const std::vector<std::string>& paths, std::chrono::seconds ttl)
      -> core::Result<std::vector<std::pair<std::string, std::string>>> {
    signedFor = url + " for " + std::to_string(ttl.count()) + "s";
    std::vector<std::pair<std::string, std::string>> urls;
    for (const auto& path : paths) urls.emplace_back(path, "https://s3.example/" + path + "?X-Amz-Signature=x");
    return urls;
  };
  EvidenceDownloads downloads(*fixture.client, options, fixture.metrics, nullptr);
  downloads.start();
  ASSERT_TRUE(eventually([&] { return fixture.status("from-s3").value("phase", "") == "Ready"; }));
  EXPECT_EQ(signedFor, "s3://evidence/podmortem/shop/web-1/" + id + " for 300s");
  json objects = fixture.status("from-s3")["objects"];
  ASSERT_EQ(objects.size(), 3u) << objects.dump();
  EXPECT_EQ(objects[0]["path"], "manifest.json");
  EXPECT_EQ(objects[1]["path"], "pod.json") << "only stored artifacts";
  EXPECT_EQ(objects[2]["path"], "attestation.dsse.json");
  EXPECT_EQ(objects[2].value("optional", false), true);
  EXPECT_FALSE(fixture.status("from-s3").contains("token")) << "no token: nothing is served from this replica";
  downloads.stop();
}

}  // namespace
}  // namespace podmortem::controller
