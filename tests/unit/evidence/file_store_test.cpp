#include "podmortem/evidence/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/verifier.h"
#include "podmortem/core/sha256.h"

namespace podmortem::controller {
namespace {
namespace fs = std::filesystem;

// Bytes as an API server sends them: odd spacing, non-ASCII, no final newline.
const std::string kPodJson =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",  \"metadata\":{\"name\":\"web-0\","
    "\"annotations\":{\"note\":\"caf\xc3\xa9 \\u00e9\"}}}";

class EvidenceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("podmortem-store-" + evidence::newSnapshotId());
    dir_ = (root_ / "evidence").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }

  static evidence::SnapshotContent content(std::string ns = "shop", std::string pod = "web-0") {
    evidence::SnapshotContent c;
    c.id = evidence::newSnapshotId();
    c.policyName = "protect-shop";
    c.trigger = {"admission",
                 "delete-pods",
                 "DELETE",
                 "pods",
                 "alice@example.com",
                 {"system:authenticated", "devs"},
                 "705ab4f5-6393-11e8-b7cc-42010a800002",
                 std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123))};
    c.pod = {std::move(ns), std::move(pod), "3f1e2d4c-0000-4000-8000-000000000001", "node-a"};
    c.artifacts = {{"pod.json", "pod", kPodJson, ""},
                   {"audit-trail.jsonl", "auditTrail", "{\"auditID\":\"a\"}\n", ""},
                   {"logs/app.log", "logs", "line 1\nline 2\n", ""},
                   {"owners/replicaset.json", "owners", "{}", ""}};
    c.createdAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800456));
    c.extra = {{"auditTrail", {{"events", 1}, {"windowStart", "2024-05-01T11:30:00.000Z"}}}};
    return c;
  }

  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static unsigned mode(const fs::path& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
  }
  std::vector<std::string> podFolder(const evidence::SnapshotContent& c) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry :
         fs::directory_iterator(fs::path(dir_) / c.pod.namespaceName / c.pod.name, ec)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path root_;
  std::string dir_;
};

TEST_F(EvidenceStoreTest, BundleRoundTripsAndVerifies) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  evidence::WriteResult result = store.write(c);

  ASSERT_EQ(result.phase, evidence::SnapshotPhase::kComplete) << result.reason;
  EXPECT_TRUE(result.reason.empty());
  fs::path bundle = fs::path(dir_) / "shop" / "web-0" / c.id;
  EXPECT_EQ(result.bundlePath, bundle.string());
  EXPECT_EQ(read(bundle / "pod.json"), kPodJson);
  EXPECT_EQ(read(bundle / "logs" / "app.log"), "line 1\nline 2\n");
  EXPECT_EQ(result.manifestSha256, core::sha256Hex(read(bundle / "manifest.json")));
  ASSERT_EQ(result.artifacts.size(), 4u);
  EXPECT_EQ(result.artifacts[0].sha256, core::sha256Hex(kPodJson));
  EXPECT_EQ(result.artifacts[0].size, kPodJson.size());

  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(bundle)) {
    if (entry.is_regular_file())
      total += entry.file_size();
  }
  EXPECT_EQ(result.bytesWritten, total);

  evidence::VerifyReport report = evidence::verifyEvidence(dir_, nullptr);
  EXPECT_TRUE(report.ok()) << report.problems.front().path << ": "
                           << report.problems.front().message;
  EXPECT_EQ(report.snapshotsChecked, 1u);
  EXPECT_EQ(report.artifactsChecked, 4u);
  EXPECT_EQ(report.ledgerEntries, 1u);
}

TEST_F(EvidenceStoreTest, FilesAre0600AndFoldersAre0700) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  ASSERT_EQ(store.write(c).phase, evidence::SnapshotPhase::kComplete);
  fs::path bundle = fs::path(dir_) / "shop" / "web-0" / c.id;
  EXPECT_EQ(mode(dir_), 0700u);
  EXPECT_EQ(mode(fs::path(dir_) / "shop"), 0700u);
  EXPECT_EQ(mode(fs::path(dir_) / "shop" / "web-0"), 0700u);
  EXPECT_EQ(mode(bundle), 0700u);
  EXPECT_EQ(mode(bundle / "logs"), 0700u);
  EXPECT_EQ(mode(bundle / "owners"), 0700u);
  EXPECT_EQ(mode(bundle / "pod.json"), 0600u);
  EXPECT_EQ(mode(bundle / "logs" / "app.log"), 0600u);
  EXPECT_EQ(mode(bundle / "manifest.json"), 0600u);
  EXPECT_EQ(mode(fs::path(dir_) / "custody.jsonl"), 0600u);
}

TEST_F(EvidenceStoreTest, ManifestDescribesTriggerPodAndEveryArtifact) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  ASSERT_EQ(store.write(c).phase, evidence::SnapshotPhase::kComplete);
  std::string text = read(fs::path(dir_) / "shop" / "web-0" / c.id / "manifest.json");
  EXPECT_EQ(text.substr(0, 4), "{\n  ") << "pretty-printed with two spaces";
  nlohmann::json m = nlohmann::json::parse(text);

  EXPECT_EQ(m["apiVersion"], "podmortem.io/v1alpha1");
  EXPECT_EQ(m["kind"], "EvidenceManifest");
  EXPECT_EQ(m["snapshotId"], c.id);
  EXPECT_EQ(m["phase"], "Complete");
  EXPECT_EQ(m["createdAt"], "2024-05-01T12:00:00.456Z");
  EXPECT_TRUE(std::regex_match(m["completedAt"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_FALSE(m["podmortemVersion"].get<std::string>().empty());
  EXPECT_EQ(m["policy"], nlohmann::json({{"name", "protect-shop"}}));
  EXPECT_EQ(m["trigger"]["source"], "admission");
  EXPECT_EQ(m["trigger"]["operation"], "DELETE");
  EXPECT_EQ(m["trigger"]["resource"], "pods");
  EXPECT_EQ(m["trigger"]["user"], "alice@example.com");
  EXPECT_EQ(m["trigger"]["groups"], nlohmann::json({"system:authenticated", "devs"}));
  EXPECT_EQ(m["trigger"]["requestUid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(m["trigger"]["time"], "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(m["pod"], nlohmann::json({{"namespace", "shop"},
                                      {"name", "web-0"},
                                      {"uid", "3f1e2d4c-0000-4000-8000-000000000001"},
                                      {"node", "node-a"}}));
  EXPECT_EQ(m["auditTrail"]["events"], 1);
  ASSERT_EQ(m["artifacts"].size(), 4u);
  const nlohmann::json& pod = m["artifacts"][0];
  EXPECT_EQ(pod["path"], "pod.json");
  EXPECT_EQ(pod["collector"], "pod");
  EXPECT_EQ(pod["size"], kPodJson.size());
  EXPECT_EQ(pod["sha256"], core::sha256Hex(kPodJson));
  EXPECT_FALSE(pod.contains("error"));
}

TEST_F(EvidenceStoreTest, FailedCollectorMakesSnapshotPartial) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  c.artifacts.push_back({"logs/sidecar.log", "logs", "", "container sidecar: 404 Not Found"});
  c.artifacts.push_back({"logs/app.previous.log", "logs", "partial line", "stream reset"});
  evidence::WriteResult result = store.write(c);

  ASSERT_EQ(result.phase, evidence::SnapshotPhase::kPartial) << result.reason;
  EXPECT_NE(result.reason.find("404 Not Found"), std::string::npos) << result.reason;
  fs::path bundle = fs::path(dir_) / "shop" / "web-0" / c.id;
  EXPECT_FALSE(fs::exists(bundle / "logs" / "sidecar.log")) << "no bytes, no file";
  EXPECT_EQ(read(bundle / "logs" / "app.previous.log"), "partial line") << "keep what came";
  nlohmann::json m = nlohmann::json::parse(read(bundle / "manifest.json"));
  EXPECT_EQ(m["phase"], "Partial");
  EXPECT_EQ(m["artifacts"][4]["error"], "container sidecar: 404 Not Found");
  EXPECT_EQ(m["artifacts"][4]["size"], 0);
  EXPECT_FALSE(m["artifacts"][4].contains("sha256"));
  EXPECT_EQ(m["artifacts"][5]["error"], "stream reset");
  EXPECT_EQ(m["artifacts"][5]["sha256"], core::sha256Hex("partial line"));
  EXPECT_TRUE(evidence::verifyEvidence(dir_, nullptr).ok());
}

TEST_F(EvidenceStoreTest, WriteErrorFailsAndRemovesTemporaryFolder) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  c.artifacts.push_back({"checkpoint/app.tar", "checkpoint", std::string(1 << 20, 'x'), ""});

  // A file size limit makes write(2) fail part-way with EFBIG, as a full disk would with ENOSPC,
  // whoever runs the test (chmod does not stop root).
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 256 * 1024;
  auto oldHandler = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  evidence::WriteResult result = store.write(c);
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, oldHandler);

  EXPECT_EQ(result.phase, evidence::SnapshotPhase::kFailed);
  EXPECT_NE(result.reason.find("checkpoint/app.tar"), std::string::npos) << result.reason;
  EXPECT_NE(result.reason.find("too large"), std::string::npos) << result.reason;
  EXPECT_TRUE(result.bundlePath.empty());
  EXPECT_EQ(result.bytesWritten, 0u);
  EXPECT_TRUE(podFolder(c).empty()) << "temporary folder left behind";
  EXPECT_EQ(read(fs::path(dir_) / "custody.jsonl"), "");

  evidence::WriteResult retry = store.write(c);
  EXPECT_EQ(retry.phase, evidence::SnapshotPhase::kComplete) << retry.reason;
  EXPECT_TRUE(evidence::verifyEvidence(dir_, nullptr).ok());
}

TEST_F(EvidenceStoreTest, FolderThatCannotBeCreatedFailsWithReason) {
  evidence::FileStore store(dir_, nullptr);
  // Works as root too, where a read-only folder would not stop the write.
  fs::create_directory(fs::path(dir_) / "shop");
  std::ofstream(fs::path(dir_) / "shop" / "web-0") << "a file where the pod folder should be";
  evidence::WriteResult result = store.write(content());
  EXPECT_EQ(result.phase, evidence::SnapshotPhase::kFailed);
  EXPECT_NE(result.reason.find("shop/web-0"), std::string::npos) << result.reason;
  EXPECT_NE(result.reason.find("Not a directory"), std::string::npos) << result.reason;
}

TEST_F(EvidenceStoreTest, EvidenceDirThatIsAFileFailsAtStartUp) {
  fs::create_directories(root_);
  std::ofstream(root_ / "file") << "x";
  EXPECT_THROW(evidence::FileStore((root_ / "file").string(), nullptr), std::runtime_error);
  EXPECT_THROW(evidence::FileStore((root_ / "file" / "evidence").string(), nullptr),
               std::runtime_error);
}

TEST_F(EvidenceStoreTest, InvalidNamespaceAndPodNamesAreRefused) {
  evidence::FileStore store(dir_, nullptr);
  for (std::string bad : {"../x", "a/b", "Shop", "", "..", "a\\b"}) {
    evidence::WriteResult ns = store.write(content(bad, "web-0"));
    EXPECT_EQ(ns.phase, evidence::SnapshotPhase::kFailed) << bad;
    EXPECT_NE(ns.reason.find("namespace"), std::string::npos) << ns.reason;
    evidence::WriteResult pod = store.write(content("shop", bad));
    EXPECT_EQ(pod.phase, evidence::SnapshotPhase::kFailed) << bad;
    EXPECT_NE(pod.reason.find("pod name"), std::string::npos) << pod.reason;
  }
  evidence::SnapshotContent badId = content();
  badId.id = "../../escape";
  EXPECT_EQ(store.write(badId).phase, evidence::SnapshotPhase::kFailed);
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(root_))
    entries.push_back(entry.path().string());
  EXPECT_EQ(entries, std::vector<std::string>{dir_}) << "nothing written beside evidence.dir";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
      << "only custody.jsonl";
}

TEST_F(EvidenceStoreTest, UnsafeArtifactPathsAreRefused) {
  evidence::FileStore store(dir_, nullptr);
  for (std::string bad : {"/etc/passwd", "../pod.json", "logs/../../x", "logs//a.log", "",
                          "manifest.json", "manifest.json.sig"}) {
    evidence::SnapshotContent c = content();
    c.artifacts.push_back({bad, "evil", "x", ""});
    evidence::WriteResult result = store.write(c);
    EXPECT_EQ(result.phase, evidence::SnapshotPhase::kFailed) << bad;
    EXPECT_NE(result.reason.find("artifact path"), std::string::npos) << result.reason;
  }
  evidence::SnapshotContent twice = content();
  twice.artifacts.push_back({"pod.json", "pod", "again", ""});
  EXPECT_EQ(store.write(twice).phase, evidence::SnapshotPhase::kFailed);
  evidence::SnapshotContent fileAndFolder = content();
  fileAndFolder.artifacts.push_back({"logs", "logs", "x", ""});
  EXPECT_EQ(store.write(fileAndFolder).phase, evidence::SnapshotPhase::kFailed);
}

TEST_F(EvidenceStoreTest, ExtraThatWouldReplaceManifestFieldIsRefused) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  c.extra["phase"] = "Complete";
  evidence::WriteResult result = store.write(c);
  EXPECT_EQ(result.phase, evidence::SnapshotPhase::kFailed);
  EXPECT_NE(result.reason.find("phase"), std::string::npos) << result.reason;
}

TEST_F(EvidenceStoreTest, ExistingSnapshotIsNeverOverwritten) {
  evidence::FileStore store(dir_, nullptr);
  evidence::SnapshotContent c = content();
  evidence::WriteResult first = store.write(c);
  ASSERT_EQ(first.phase, evidence::SnapshotPhase::kComplete);
  std::string manifest = read(fs::path(first.bundlePath) / "manifest.json");

  c.artifacts[0].bytes = "{\"forged\":true}";
  evidence::WriteResult second = store.write(c);
  EXPECT_EQ(second.phase, evidence::SnapshotPhase::kFailed);
  EXPECT_NE(second.reason.find("already exists"), std::string::npos) << second.reason;
  EXPECT_EQ(read(fs::path(first.bundlePath) / "pod.json"), kPodJson);
  EXPECT_EQ(read(fs::path(first.bundlePath) / "manifest.json"), manifest);

  // Not even an empty folder of that name, which rename(2) alone would replace.
  evidence::SnapshotContent other = content();
  fs::create_directory(fs::path(dir_) / "shop" / "web-0" / other.id);
  EXPECT_EQ(store.write(other).phase, evidence::SnapshotPhase::kFailed);
}

TEST_F(EvidenceStoreTest, EightConcurrentWritersProduceValidChain) {
  evidence::FileStore store(dir_, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 4;
  std::vector<std::thread> threads;
  std::vector<int> complete(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        evidence::SnapshotContent c = content("shop", "web-" + std::to_string(t % 3));
        if (store.write(c).phase == evidence::SnapshotPhase::kComplete)
          ++complete[t];
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(complete[t], kPerThread);

  evidence::VerifyReport report = evidence::verifyEvidence(dir_, nullptr);
  EXPECT_TRUE(report.ok()) << report.problems.front().path << ": "
                           << report.problems.front().message;
  EXPECT_EQ(report.ledgerEntries, static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(report.snapshotsChecked, static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace podmortem::controller

namespace podmortem::controller {
namespace {

// What a SIGKILL can leave behind, set right at the next start: a temporary folder (moved to
// .quarantine, out of verify's way) and a sealed bundle the ledger does not name (recorded).
TEST_F(EvidenceStoreTest, ARestartQuarantinesInterruptedWritesAndRecordsOrphanedBundles) {
  std::string orphanId;
  {
    evidence::FileStore store(dir_, nullptr);
    ASSERT_EQ(store.write(content()).phase, evidence::SnapshotPhase::kComplete);
    auto orphan = store.write(content());
    ASSERT_EQ(orphan.phase, evidence::SnapshotPhase::kComplete);
    orphanId = fs::path(orphan.bundlePath).filename().string();
  }
  // The crash: the orphan's ledger line never made it, and another capture was mid-write.
  std::string ledgerPath = dir_ + "/custody.jsonl";
  std::string ledger;
  {
    std::ifstream in(ledgerPath);
    ledger.assign(std::istreambuf_iterator<char>(in), {});
  }
  ledger = ledger.substr(0, ledger.find('\n') + 1);
  {
    std::ofstream out(ledgerPath, std::ios::trunc);
    out << ledger;
  }
  fs::path temporary = fs::path(dir_) / "shop" / "web-0" / (".tmp-" + evidence::newSnapshotId());
  fs::create_directories(temporary);
  std::ofstream(temporary / "pod.json") << "{\"kind\":\"Po";
  auto before = evidence::verifyEvidence(dir_, nullptr);
  EXPECT_FALSE(before.ok()) << "verify sees the crash's traces before the restart";

  evidence::FileStore restarted(dir_, nullptr);
  EXPECT_FALSE(fs::exists(temporary));
  EXPECT_EQ(std::distance(fs::recursive_directory_iterator(fs::path(dir_) / ".quarantine"),
                          fs::recursive_directory_iterator()),
            4) << "shop/, web-0/, the moved folder and its partial file";
  auto after = evidence::verifyEvidence(dir_, nullptr);
  for (const auto& problem : after.problems) ADD_FAILURE() << problem.path << ": " << problem.message;
  EXPECT_EQ(after.ledgerEntries, 2u);
  EXPECT_EQ(after.snapshotsChecked, 2u);
  ASSERT_EQ(restarted.write(content()).phase, evidence::SnapshotPhase::kComplete);
  auto continued = evidence::verifyEvidence(dir_, nullptr);
  EXPECT_TRUE(continued.ok());
  EXPECT_EQ(continued.ledgerEntries, 3u) << "the chain goes on after the recovery";
}

}  // namespace
}  // namespace podmortem::controller
