#include "podmortem/evidence/verifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/store.h"

namespace podmortem::controller {
namespace {
namespace fs = std::filesystem;

// Three stored snapshots of two pods, then one kind of tampering per test.
class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("podmortem-verify-" + evidence::newSnapshotId());
    evidence::FileStore store(dir_.string(), nullptr);
    for (const char* pod : {"web-0", "web-1", "web-0"}) {
      evidence::SnapshotContent c;
      c.id = evidence::newSnapshotId();
      c.policyName = "protect";
      c.trigger = {"audit", "exec", "create", "pods/exec", "mallory", {}, "audit-id", {}};
      c.pod = {"shop", pod, "uid-" + std::string(pod), "node-a"};
      c.artifacts = {{"pod.json", "pod", "{\"kind\":\"Pod\"}", ""},
                     {"logs/app.log", "logs", "hello\n", ""}};
      evidence::WriteResult result = store.write(c);
      ASSERT_EQ(result.phase, evidence::SnapshotPhase::kComplete) << result.reason;
      bundles_.push_back(result.bundlePath);
    }
    ASSERT_TRUE(evidence::verifyEvidence(dir_.string(), nullptr).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write(const fs::path& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  }
  static void flipByte(const fs::path& file, std::size_t offset) {
    std::string bytes = read(file);
    bytes.at(offset) ^= 0x01;
    write(file, bytes);
  }
  std::vector<std::string> ledgerLines() const {
    std::ifstream in(dir_ / "custody.jsonl", std::ios::binary);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
    return lines;
  }
  void writeLedger(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines)
      text += line + "\n";
    write(dir_ / "custody.jsonl", text);
  }

  // True when some problem names `path` and its message contains `words`.
  static bool reports(const evidence::VerifyReport& report, const fs::path& path, const std::string& words) {
    for (const evidence::VerifyProblem& problem : report.problems) {
      if (problem.path == path.string() && problem.message.find(words) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  static std::string describe(const evidence::VerifyReport& report) {
    std::string text;
    for (const evidence::VerifyProblem& problem : report.problems) {
      text += problem.path + ": " + problem.message + "\n";
    }
    return text;
  }

  fs::path dir_;
  std::vector<std::string> bundles_;
};

TEST_F(VerifierTest, OneChangedArtifactByteIsReported) {
  fs::path file = fs::path(bundles_[1]) / "pod.json";
  flipByte(file, 3);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, file, "sha256")) << describe(report);
  EXPECT_EQ(report.problems.size(), 1u) << describe(report);
}

TEST_F(VerifierTest, ArtifactWithChangedSizeIsReported) {
  fs::path file = fs::path(bundles_[0]) / "logs" / "app.log";
  write(file, "hello, edited\n");
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, file, "size")) << describe(report);
}

TEST_F(VerifierTest, MissingArtifactIsReported) {
  fs::path file = fs::path(bundles_[0]) / "logs" / "app.log";
  fs::remove(file);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, file, "missing")) << describe(report);
}

TEST_F(VerifierTest, OneChangedManifestByteIsReportedAgainstLedger) {
  fs::path manifest = fs::path(bundles_[2]) / "manifest.json";
  std::string bytes = read(manifest);
  std::size_t at = bytes.find("mallory");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'M';
  write(manifest, bytes);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, manifest, "changed after it was recorded")) << describe(report);
  EXPECT_EQ(report.problems.size(), 1u) << describe(report);
}

TEST_F(VerifierTest, ManifestThatDoesNotParseIsReported) {
  fs::path manifest = fs::path(bundles_[0]) / "manifest.json";
  write(manifest, "{\"apiVersion\": ");
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, manifest, "not valid JSON")) << describe(report);
  EXPECT_TRUE(reports(report, manifest, "changed after it was recorded")) << describe(report);
}

TEST_F(VerifierTest, EditedLedgerLineBreaksTheChain) {
  std::vector<std::string> lines = ledgerLines();
  std::size_t at = lines[0].find("\"time\":\"") + 8;
  lines[0][at] = lines[0][at] == '1' ? '2' : '1';  // still valid JSON, different time
  writeLedger(lines);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, (dir_ / "custody.jsonl").string() + ":2", "prevSha256"))
      << describe(report);
  EXPECT_EQ(report.problems.size(), 1u) << describe(report);
}

TEST_F(VerifierTest, LedgerLineThatNoLongerParsesIsReported) {
  std::vector<std::string> lines = ledgerLines();
  lines[1].pop_back();
  writeLedger(lines);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, (dir_ / "custody.jsonl").string() + ":2", "not a ledger entry"))
      << describe(report);
  EXPECT_TRUE(reports(report, (dir_ / "custody.jsonl").string() + ":3", "prevSha256"))
      << describe(report);
}

TEST_F(VerifierTest, SwappedLedgerLinesAreReported) {
  std::vector<std::string> lines = ledgerLines();
  std::swap(lines[0], lines[1]);
  writeLedger(lines);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  std::string ledger = (dir_ / "custody.jsonl").string();
  EXPECT_TRUE(reports(report, ledger + ":1", "seq 2 where 1")) << describe(report);
  EXPECT_TRUE(reports(report, ledger + ":1", "prevSha256")) << describe(report);
  EXPECT_TRUE(reports(report, ledger + ":2", "prevSha256")) << describe(report);
}

TEST_F(VerifierTest, RemovedLedgerLineIsReported) {
  std::vector<std::string> lines = ledgerLines();
  lines.erase(lines.begin() + 1);
  writeLedger(lines);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  std::string ledger = (dir_ / "custody.jsonl").string();
  EXPECT_TRUE(reports(report, ledger + ":2", "seq 3 where 2")) << describe(report);
  EXPECT_TRUE(reports(report, bundles_[1], "not listed in the custody ledger")) << describe(report);
}

TEST_F(VerifierTest, RemovedSnapshotFolderIsReported) {
  fs::remove_all(bundles_[1]);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, bundles_[1], "folder is missing")) << describe(report);
  EXPECT_EQ(report.problems.size(), 1u) << describe(report);
}

TEST_F(VerifierTest, SnapshotFolderNotInLedgerIsReported) {
  fs::path copy = fs::path(bundles_[0]).parent_path() / evidence::newSnapshotId();
  fs::copy(bundles_[0], copy, fs::copy_options::recursive);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, copy, "not listed in the custody ledger")) << describe(report);
  EXPECT_TRUE(reports(report, copy / "manifest.json", "not the folder it is in"))
      << describe(report);
}

TEST_F(VerifierTest, ExtraFileInBundleIsReported) {
  fs::path extra = fs::path(bundles_[0]) / "logs" / "planted.log";
  write(extra, "not captured by podmortem\n");
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, extra, "not listed in manifest.json")) << describe(report);
  EXPECT_EQ(report.problems.size(), 1u) << describe(report);
}

TEST_F(VerifierTest, LeftoverTemporaryFolderIsReported) {
  fs::path temp = fs::path(bundles_[0]).parent_path() / (".tmp-" + evidence::newSnapshotId());
  fs::create_directory(temp);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, temp, "interrupted")) << describe(report);
}

TEST_F(VerifierTest, SymlinkInBundleIsReportedAndNotFollowed) {
  fs::path link = fs::path(bundles_[0]) / "logs" / "app.log";
  fs::remove(link);
  fs::create_symlink(fs::path(bundles_[1]) / "logs" / "app.log", link);
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, link, "symlink")) << describe(report);
  EXPECT_TRUE(reports(report, link, "missing")) << describe(report);
}

TEST_F(VerifierTest, SingleSnapshotFolderIsCheckedAgainstLedgerThreeFoldersUp) {
  evidence::VerifyReport clean = evidence::verifyEvidence(bundles_[1], nullptr);
  EXPECT_TRUE(clean.ok()) << describe(clean);
  EXPECT_EQ(clean.snapshotsChecked, 1u);
  EXPECT_EQ(clean.ledgerEntries, 3u);

  fs::path manifest = fs::path(bundles_[1]) / "manifest.json";
  std::string bytes = read(manifest);
  bytes[bytes.find("web-1")] = 'W';
  write(manifest, bytes);
  evidence::VerifyReport report = evidence::verifyEvidence(bundles_[1], nullptr);
  EXPECT_TRUE(reports(report, manifest, "changed after it was recorded")) << describe(report);
}

TEST_F(VerifierTest, CopiedSnapshotFolderWithoutLedgerVerifiesWithNote) {
  fs::path copy = dir_ / "copy";
  fs::copy(bundles_[0], copy, fs::copy_options::recursive);
  evidence::VerifyReport report = evidence::verifyEvidence(copy.string(), nullptr);
  EXPECT_TRUE(report.ok()) << describe(report);
  EXPECT_EQ(report.ledgerEntries, 0u);
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("ledger"), std::string::npos);
}

TEST_F(VerifierTest, MissingLedgerIsReported) {
  fs::remove(dir_ / "custody.jsonl");
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reports(report, dir_ / "custody.jsonl", "missing")) << describe(report);
}

TEST_F(VerifierTest, FolderThatHoldsNoEvidenceIsNotOk) {
  fs::path empty = dir_ / "shop" / "web-0" / "logs-not-here";
  EXPECT_FALSE(evidence::verifyEvidence((dir_ / "nope").string(), nullptr).ok());
  fs::create_directory(empty);
  EXPECT_FALSE(evidence::verifyEvidence(empty.string(), nullptr).ok());
}

}  // namespace
}  // namespace podmortem::controller
