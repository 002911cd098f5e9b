// The custody ledger's lines anchored outside the volume: each write returns its line's anchor,
// and checkAnchors finds a ledger cut short, a line rewritten, another ledger.
#include <gtest/gtest.h>

#include "podmortem/core/sha256.h"
#include "podmortem/evidence/store.h"
#include "podmortem/evidence/verifier.h"
#include "test_support.h"

namespace podmortem::evidence {
namespace {

namespace fs = std::filesystem;

std::vector<LedgerAnchorRecord> writeThree(const fs::path& dir) {
  FileStore store(dir.string(), nullptr);
  std::vector<LedgerAnchorRecord> anchors;
  for (int i = 0; i < 3; ++i) {
    SnapshotContent content;
    content.id = newSnapshotId();
    content.pod = {"shop", "web-" + std::to_string(i), "", ""};
    content.artifacts = {{"pod.json", "pod", "{}", ""}};
    auto result = store.write(content);
    EXPECT_EQ(result.custody.seq, static_cast<uint64_t>(i + 1));
    anchors.push_back({"EvidenceSnapshot " + content.id, result.custody});
  }
  return anchors;
}

std::vector<std::string> messages(const VerifyReport& report) {
  std::vector<std::string> out;
  for (const auto& problem : report.problems) out.push_back(problem.path + ": " + problem.message);
  return out;
}

TEST(LedgerAnchor, EachLineIsAnchoredByItsHashItsPredecessorAndTheLedgersFirstLine) {
  testing::TempDir dir;
  auto anchors = writeThree(dir.path());
  std::string ledger = testing::readFile(dir.path() / "custody.jsonl");
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = ledger.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(ledger.substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(anchors[i].anchor.entrySha256, core::sha256Hex(lines[i]));
    EXPECT_EQ(anchors[i].anchor.ledgerId, core::sha256Hex(lines[0]));
  }
  EXPECT_EQ(anchors[2].anchor.prevSha256, core::sha256Hex(lines[1]));
  auto report = verifyEvidence(dir.str(), nullptr);
  checkAnchors(anchors, "custody.jsonl", report);
  EXPECT_TRUE(report.ok()) << messages(report).front();
  EXPECT_EQ(report.anchorsChecked, 3u);
}

TEST(LedgerAnchor, ALedgerCutShortIsFoundByTheAnchorOfItsLastLine) {
  testing::TempDir dir;
  auto anchors = writeThree(dir.path());
  std::string ledger = testing::readFile(dir.path() / "custody.jsonl");
  ledger.pop_back();
  ledger.erase(ledger.rfind('\n') + 1);
  testing::writeFile(dir.path() / "custody.jsonl", ledger);
  auto report = verifyEvidence(dir.str(), nullptr);
  size_t before = report.problems.size();  // the bundle the line named is now unrecorded
  checkAnchors(anchors, "custody.jsonl", report);
  ASSERT_EQ(report.problems.size(), before + 1);
  EXPECT_NE(report.problems.back().message.find("ends at line 2: the ledger was truncated"), std::string::npos)
      << report.problems.back().message;
}

TEST(LedgerAnchor, ARewrittenLineAndAnotherLedgerAreFound) {
  testing::TempDir dir;
  auto anchors = writeThree(dir.path());
  auto rewritten = anchors;
  rewritten[1].anchor.entrySha256 = std::string(64, 'f');
  auto report = verifyEvidence(dir.str(), nullptr);
  checkAnchors(rewritten, "custody.jsonl", report);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("the line was rewritten"), std::string::npos);

  testing::TempDir other;
  writeThree(other.path());  // a volume put in the first one's place
  auto replaced = verifyEvidence(other.str(), nullptr);
  checkAnchors(anchors, "custody.jsonl", replaced);
  ASSERT_EQ(replaced.problems.size(), 1u);
  EXPECT_NE(replaced.problems[0].message.find("the volume was replaced"), std::string::npos);
}

}  // namespace
}  // namespace podmortem::evidence
