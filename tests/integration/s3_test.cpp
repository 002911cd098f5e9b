// The S3 evidence store against a real S3-compatible server (@20minutes/s3rver, which checks
// SigV4): every sealed bundle uploaded once, checksummed and locked; an outage of the store
// delays uploads and loses nothing; a wrong credential fails with its reason and the local copy
// stays. s3rver keeps no Object Lock and checks no checksum, so those headers are asserted on
// the wire, from its request log.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "podmortem/evidence/s3_mirror.h"
#include "podmortem/evidence/s3_uploads.h"
#include "s3_server.h"
#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPolicy = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]
  actions: {snapshot: {collectors: [pod, auditTrail, references]}}
)";

std::function<void(cli::Config&)> s3Store(const S3Server& s3, const TempDir& keys, bool wrongSecret = false) {
  std::string credentials = s3.credentialsFile(wrongSecret).string();
  std::string endpoint = s3.endpoint();
  std::string key = (keys.path() / "signing.key").string();
  return [=](cli::Config& config) {
    config.evidence.store = evidence::StoreSettings::Kind::kS3;
    config.evidence.signingKeyFile = key;
    config.s3.endpoint = endpoint;
    config.s3.bucket = S3Server::kBucket;
    config.s3.prefix = "podmortem";
    config.s3.credentialsFile = credentials;
    config.s3.objectLock = "COMPLIANCE";
    config.s3.retention = std::chrono::hours(24 * 30);
    config.s3.maxBackoff = std::chrono::milliseconds(300);
  };
}

double metric(RunningServer& server, const std::string& name) {
  return metricValue(server.metricsClient().get("/metrics").body, name);
}

std::vector<std::string> capture(RunningServer& server, int first, int count) {
  std::vector<std::string> ids;
  for (int i = first; i < first + count; ++i) {
    auto response = server.client().post("/validate?timeout=10s", deleteOfPod(i));
    EXPECT_EQ(response.status, 200u);
    std::string named = parseJson(response.body)["response"]["auditAnnotations"].value("evidence-snapshots", "");
    if (!named.empty()) ids.push_back(named.substr(named.find('=') + 1));
  }
  return ids;
}

// An Ed25519 signing key in `dir`.
void makeSigningKey(const TempDir& dir) {
  auto made = runCommand("openssl genpkey -algorithm ed25519 -out " + (dir.path() / "signing.key").string() + " 2>&1");
  EXPECT_EQ(made.exitCode, 0) << made.output;
}

TEST(S3Test, EachSealedBundleIsUploadedOnceChecksummedAndLocked) {
  S3Server s3;
  TempDir keys;
  makeSigningKey(keys);
  RunningServer server(kPolicy, {}, s3Store(s3, keys));
  auto ids = capture(server, 0, 2);
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_s3_uploaded_total") == 2; }))
      << server.metricsClient().get("/metrics").body;
  EXPECT_EQ(metric(server, "podmortem_s3_uploads_pending"), 0);

  std::map<std::string, int> puts;
  std::vector<std::string> order;
  for (const auto& request : s3.requests()) {
    if (request["method"] != "PUT") continue;
    std::string url = request["url"];
    ++puts[url];
    order.push_back(url);
    const json& headers = request["headers"];
    EXPECT_EQ(headers.value("x-amz-object-lock-mode", ""), "COMPLIANCE") << url;
    EXPECT_FALSE(headers.value("x-amz-object-lock-retain-until-date", "").empty()) << url;
    EXPECT_EQ(headers.value("x-amz-meta-sha256", "").size(), 64u) << url;
    EXPECT_FALSE(headers.value("content-md5", "").empty()) << url;
    EXPECT_EQ(headers.value("x-amz-checksum-sha256", "").size(), 44u) << url << ": base64 of 32 bytes";
    EXPECT_EQ(headers.value("authorization", "").rfind("AWS4-HMAC-SHA256 Credential=S3RVER/", 0), 0u);
  }
  for (const auto& [url, count] : puts) EXPECT_EQ(count, 1) << url << " written more than once";
  const std::string bundle = "/evidence/podmortem/prod-shop/web-0/" + ids[0] + "/";
  for (const char* file : {"pod.json", "audit-trail.jsonl", "references.json", "manifest.json",
                           "attestation.dsse.json"}) {
    EXPECT_EQ(puts.count(bundle + file), 1u) << file;
  }
  // Artifacts first, then the manifest, then the attestation: a manifest in the store never
  // names an artifact that is not there.
  auto at = [&](const std::string& url) { return std::find(order.begin(), order.end(), url) - order.begin(); };
  EXPECT_LT(at(bundle + "pod.json"), at(bundle + "manifest.json"));
  EXPECT_LT(at(bundle + "manifest.json"), at(bundle + "attestation.dsse.json"));
  size_t ledgerObjects = 0;
  for (const auto& [url, count] : puts) ledgerObjects += url.find("/evidence/podmortem/ledger/") == 0;
  EXPECT_EQ(ledgerObjects, 2u) << "one object per custody-ledger line";
  // Verified straight from the store, then after a byte changed there.
  writeFile(keys.path() / "verify.yaml",
            "evidence:\n  s3:\n    endpoint: " + s3.endpoint() + "\n    bucket: evidence\n    prefix: podmortem\n"
            "    credentialsFile: " + s3.credentialsFile().string() + "\n");
  ASSERT_EQ(runCommand("openssl pkey -in " + (keys.path() / "signing.key").string() + " -pubout -out " +
                       (keys.path() / "signing.pub").string()).exitCode, 0);
  const std::string url = "s3://evidence/podmortem/prod-shop/web-0/" + ids[0];
  const std::string verify = std::string(PODMORTEM_BINARY) + " verify --config " + (keys.path() / "verify.yaml").string() +
                             " --key " + (keys.path() / "signing.pub").string() + " ";
  auto intact = runCommand(verify + url + " 2>&1");
  EXPECT_EQ(intact.exitCode, 0) << intact.output;
  EXPECT_NE(intact.output.find("1 signatures checked"), std::string::npos) << intact.output;
  std::cout << "podmortem verify --key " << url << ":\n" << intact.output;
  auto object = s3.objectFile("podmortem/prod-shop/web-0/" + ids[0] + "/pod.json");
  std::string bytes = readFile(object);
  bytes[bytes.size() / 2] ^= 1;
  writeFile(object, bytes);
  auto tampered = runCommand(verify + url + " 2>&1");
  EXPECT_EQ(tampered.exitCode, 1) << tampered.output;
  EXPECT_NE(tampered.output.find("pod.json: sha256"), std::string::npos) << tampered.output;
  std::cout << "after a byte of pod.json changed in the bucket:\n" << tampered.output;

  // The local ledger against the store's ledger objects: intact, then with its last line removed.
  const std::string againstS3 = std::string(PODMORTEM_BINARY) + " verify --against-s3 --config " +
                                (keys.path() / "verify.yaml").string() + " " + server.evidenceDir().string() + " 2>&1";
  auto anchored = runCommand(againstS3);
  EXPECT_EQ(anchored.exitCode, 0) << anchored.output;
  EXPECT_NE(anchored.output.find("2 ledger line(s) checked against the store's ledger objects"), std::string::npos)
      << anchored.output;
  std::string ledger = readFile(server.evidenceDir() / "custody.jsonl");
  ledger.pop_back();
  ledger.erase(ledger.rfind('\n') + 1);
  writeFile(server.evidenceDir() / "custody.jsonl", ledger);
  auto truncated = runCommand(againstS3);
  EXPECT_EQ(truncated.exitCode, 1) << truncated.output;
  EXPECT_NE(truncated.output.find("the ledger was truncated"), std::string::npos) << truncated.output;

  std::cout << "s3rver " << S3Server::version() << ": " << puts.size() << " objects written once each ("
            << ledgerObjects << " ledger lines), every PUT with Content-MD5, x-amz-checksum-sha256 and "
            << "Object Lock COMPLIANCE\n";
}

TEST(S3Test, AThirtySecondOutageDelaysUploadsAndLosesNothing) {
  S3Server s3;
  TempDir keys;
  makeSigningKey(keys);
  RunningServer server(kPolicy, {}, s3Store(s3, keys));
  auto before = capture(server, 0, 1);
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_s3_uploaded_total") == 1; }));

  s3.stop();
  auto outageStart = std::chrono::steady_clock::now();
  auto during = capture(server, 1, 3);
  ASSERT_TRUE(eventually([&] {
    return metric(server, "podmortem_s3_uploads_pending") == 3 && metric(server, "podmortem_s3_failures_total") >= 1;
  }));
  auto ready = parseJson(server.metricsClient().get("/readyz").body);
  EXPECT_EQ(ready["s3"]["pending"], 3) << ready.dump();
  EXPECT_NE(ready["warnings"].dump().find("uploads to S3 are failing, 3 bundles wait"), std::string::npos)
      << ready.dump();
  // The store stays down for 30 seconds (the outage itself, not a wait for something).
  std::this_thread::sleep_until(outageStart + std::chrono::seconds(30));
  double failures = metric(server, "podmortem_s3_failures_total");
  s3.start();
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_s3_uploaded_total") == 4; },
                         std::chrono::seconds(30)));
  EXPECT_EQ(metric(server, "podmortem_s3_uploads_pending"), 0);
  size_t lost = 0;
  std::vector<std::string> all = before;
  all.insert(all.end(), during.begin(), during.end());
  for (size_t i = 0; i < all.size(); ++i) {
    auto manifest = s3.objectFile("podmortem/prod-shop/web-" + std::to_string(i) + "/" + all[i] + "/manifest.json");
    lost += !fs::exists(manifest);
  }
  EXPECT_EQ(lost, 0u);
  std::cout << "S3 down for 30 s: queued " << during.size() << ", failed attempts " << failures
            << ", uploaded after it " << during.size() << " (total " << all.size() << "), lost " << lost << "\n";
}

TEST(S3Test, AWrongCredentialFailsWithItsReasonAndTheLocalCopyStays) {
  S3Server s3;
  TempDir keys;
  makeSigningKey(keys);
  RunningServer server(kPolicy, {}, s3Store(s3, keys, true));
  auto ids = capture(server, 0, 1);
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_s3_failures_total") >= 1; }));
  auto ready = parseJson(server.metricsClient().get("/readyz").body);
  EXPECT_NE(ready["s3"].value("lastError", "").find("403 SignatureDoesNotMatch"), std::string::npos) << ready.dump();
  EXPECT_EQ(metric(server, "podmortem_s3_uploads_pending"), 1);
  EXPECT_EQ(metric(server, "podmortem_s3_uploaded_total"), 0);
  ASSERT_EQ(server.snapshots().size(), 1u) << "the local copy stays";
  auto verify = runCommand(std::string(PODMORTEM_BINARY) + " verify " + server.evidenceDir().string() + " 2>&1");
  EXPECT_EQ(verify.exitCode, 0) << verify.output;
}

// evidence.s3.keepLocal: false: once confirmed in the store, the artifacts leave the volume;
// manifest.json, the attestation and uploaded.json stay, and verify on the volume says where the
// rest is (and still catches an artifact missing without a record of its upload).
TEST(S3Test, WithoutKeepLocalOnlyTheManifestAttestationAndUploadRecordStay) {
  S3Server s3;
  TempDir keys;
  makeSigningKey(keys);
  auto store = s3Store(s3, keys);
  RunningServer server(kPolicy, {}, [&](cli::Config& config) {
    store(config);
    config.s3.keepLocal = false;
  });
  auto ids = capture(server, 0, 1);
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_s3_uploaded_total") == 1; }));
  const fs::path bundle = server.evidenceDir() / "prod-shop" / "web-0" / ids[0];
  std::set<std::string> left;
  for (const auto& entry : fs::directory_iterator(bundle)) left.insert(entry.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{"manifest.json", "attestation.dsse.json", "uploaded.json"}));
  json record = parseJson(readFile(bundle / "uploaded.json"));
  EXPECT_EQ(record.value("location", ""), "s3://evidence/podmortem/prod-shop/web-0/" + ids[0]);
  EXPECT_EQ(record["removed"]["pod.json"].value("sha256", "").size(), 64u) << record.dump();

  auto local = runCommand(std::string(PODMORTEM_BINARY) + " verify " + server.evidenceDir().string() + " 2>&1");
  EXPECT_EQ(local.exitCode, 0) << local.output;
  EXPECT_NE(local.output.find("3 artifacts (3 only in the store, not checked here)"), std::string::npos) << local.output;
  EXPECT_NE(local.output.find("checks them in the store"), std::string::npos) << local.output;
  writeFile(keys.path() / "verify.yaml",
            "evidence:\n  s3:\n    endpoint: " + s3.endpoint() + "\n    bucket: evidence\n    prefix: podmortem\n"
            "    credentialsFile: " + s3.credentialsFile().string() + "\n");
  auto fromStore = runCommand(std::string(PODMORTEM_BINARY) + " verify --config " +
                              (keys.path() / "verify.yaml").string() + " " + record.value("location", "") + " 2>&1");
  EXPECT_EQ(fromStore.exitCode, 0) << fromStore.output;
  std::cout << "verify on the volume:\n" << local.output << "verify of " << record.value("location", "") << ":\n"
            << fromStore.output;

  fs::remove(bundle / "uploaded.json");
  auto unrecorded = runCommand(std::string(PODMORTEM_BINARY) + " verify " + server.evidenceDir().string() + " 2>&1");
  EXPECT_EQ(unrecorded.exitCode, 1) << unrecorded.output;
  EXPECT_NE(unrecorded.output.find("pod.json: artifact listed in manifest.json is missing"), std::string::npos)
      << unrecorded.output;
}

// The pre-signed URLs an EvidenceDownload hands out for a bundle in S3 (query-string SigV4): the
// real server gives the bytes to a GET without credentials, and refuses one whose signature was
// changed.
TEST(S3Test, PresignedUrlsGetTheBundleWithoutCredentials) {
  S3Server s3;
  TempDir keys;
  makeSigningKey(keys);
  RunningServer server(kPolicy, {}, s3Store(s3, keys));
  auto ids = capture(server, 0, 1);
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_s3_uploaded_total") == 1; }));
  evidence::S3Settings settings;
  settings.endpoint = s3.endpoint();
  settings.bucket = S3Server::kBucket;
  settings.prefix = "podmortem";
  settings.credentialsFile = s3.credentialsFile().string();
  auto urls = evidence::presignBundle(settings, "s3://evidence/podmortem/prod-shop/web-0/" + ids[0],
                                      {"manifest.json", "pod.json"}, std::chrono::seconds(300));
  ASSERT_TRUE(urls.ok()) << urls.error().message;
  ASSERT_EQ(urls->size(), 2u);
  const fs::path bundle = server.evidenceDir() / "prod-shop" / "web-0" / ids[0];
  for (const auto& [path, url] : *urls) {
    EXPECT_NE(url.find("X-Amz-Signature="), std::string::npos) << url;
    EXPECT_NE(url.find("X-Amz-Credential=S3RVER%2F"), std::string::npos) << url;
    auto got = runCommand("curl -s -f '" + url + "'");
    EXPECT_EQ(got.exitCode, 0) << path << ": " << got.output;
    EXPECT_EQ(got.output, readFile(bundle / path)) << path;
  }
  std::string forged = urls->front().second;
  forged[forged.size() - 1] = forged.back() == '0' ? '1' : '0';
  auto refused = runCommand("curl -s -o /dev/null -w '%{http_code}' '" + forged + "'");
  EXPECT_EQ(refused.output, "403") << "a changed signature is refused by the store";
}

// A file above evidence.s3.multipartThreshold goes up in parts, and comes back whole.
TEST(S3Test, ALargeArtifactIsUploadedInParts) {
  S3Server s3;
  TempDir evidence;
  const std::string relative = "shop/web-0/0123456789abcdef0123456789abcdef";
  std::string large(6 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>((i * 7919) % 251);
  writeFile(evidence.path() / relative / "checkpoint.tar", large);
  writeFile(evidence.path() / relative / "manifest.json", "{}");
  evidence::S3Settings settings;
  settings.endpoint = s3.endpoint();
  settings.bucket = S3Server::kBucket;
  settings.credentialsFile = s3.credentialsFile().string();
  settings.multipartThreshold = 5 * 1024 * 1024;
  settings.partSize = 5 * 1024 * 1024;
  std::atomic<int> uploaded{0};
  evidence::S3Uploads uploads({settings, (evidence.path() / ".uploads").string(),
                               [&](const std::string&, const std::string&, const std::string&) { ++uploaded; }});
  evidence::SealedEvidence sealed;
  sealed.snapshotId = "0123456789abcdef0123456789abcdef";
  sealed.dir = (evidence.path() / relative).string();
  sealed.relative = relative;
  ASSERT_TRUE(uploads.enqueue(sealed).ok());
  ASSERT_TRUE(eventually([&] { return uploaded == 1; }, std::chrono::seconds(30))) << uploads.state().lastError;
  size_t parts = 0, creates = 0, completes = 0;
  for (const auto& request : s3.requests()) {
    std::string url = request["url"];
    if (url.find("checkpoint.tar") == std::string::npos) continue;
    parts += request["method"] == "PUT" && url.find("partNumber=") != std::string::npos;
    creates += request["method"] == "POST" && url.find("uploads") != std::string::npos;
    completes += request["method"] == "POST" && url.find("uploadId=") != std::string::npos;
  }
  EXPECT_EQ(creates, 1u);
  EXPECT_EQ(parts, 2u);
  EXPECT_EQ(completes, 1u);
  EXPECT_EQ(readFile(s3.objectFile(relative + "/checkpoint.tar")), large) << "the parts make the whole";
}

}  // namespace
}  // namespace podmortem::testing
