// Addenda: what arrives after a snapshot is sealed goes into <bundle>/addenda/<n>/, chained to
// the manifest before it and recorded in the ledger; the sealed bundle is never rewritten, and
// verify follows the chain.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "podmortem/core/sha256.h"
#include "podmortem/evidence/manifest.h"
#include "podmortem/evidence/store.h"
#include "podmortem/evidence/verifier.h"

namespace podmortem::evidence {
namespace {
namespace fs = std::filesystem;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

class AddendumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("podmortem-addenda-" + newSnapshotId());
    store_ = std::make_unique<FileStore>(dir_.string(), nullptr);
    SnapshotContent content;
    content.id = newSnapshotId();
    content.policyName = "protect";
    content.pod = {"shop", "web-0", "uid-web-0", "node-a"};
    content.artifacts = {{"audit-trail.jsonl", "auditTrail", "{\"auditID\":\"a\"}\n", ""}};
    auto result = store_->write(content);
    ASSERT_EQ(result.phase, SnapshotPhase::kComplete) << result.reason;
    bundle_ = result.bundlePath;
    id_ = content.id;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  core::Result<AddendumRecord> add(const std::string& lines) {
    AddendumContent content;
    content.snapshotId = id_;
    content.pod = {"shop", "web-0", "uid-web-0", "node-a"};
    content.reason = "late audit events";
    content.artifacts = {{"audit-trail.jsonl", "auditTrail", lines, ""}};
    return store_->addAddendum(content);
  }

  bool reported(const VerifyReport& report, const std::string& pathPart,
                const std::string& messagePart) const {
    for (const auto& problem : report.problems) {
      if (problem.path.find(pathPart) != std::string::npos &&
          problem.message.find(messagePart) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  fs::path dir_;
  fs::path bundle_;
  std::string id_;
  std::unique_ptr<FileStore> store_;
};

TEST_F(AddendumTest, AddendaChainToTheManifestBeforeThemAndLeaveTheBundleAsItWas) {
  std::string sealed = read(bundle_ / "manifest.json");
  auto first = add("{\"auditID\":\"b\"}\n");
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = add("{\"auditID\":\"c\"}\n");
  ASSERT_TRUE(second.ok()) << second.error().message;

  EXPECT_EQ(read(bundle_ / "manifest.json"), sealed) << "the sealed manifest is never rewritten";
  EXPECT_EQ(first->sequence, 1u);
  EXPECT_EQ(first->parentManifestSha256, core::sha256Hex(sealed));
  EXPECT_EQ(second->sequence, 2u);
  EXPECT_EQ(second->parentManifestSha256, core::sha256Hex(read(bundle_ / "addenda/1/manifest.json")));
  auto parsed = manifest::parseAddendum(read(bundle_ / "addenda/2/manifest.json"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->content.snapshotId, id_);
  EXPECT_EQ(parsed->sequence, 2u);

  std::string ledger = read(dir_ / "custody.jsonl");
  EXPECT_NE(ledger.find("shop/web-0/" + id_ + "/addenda/1"), std::string::npos) << ledger;
  EXPECT_NE(ledger.find("shop/web-0/" + id_ + "/addenda/2"), std::string::npos) << ledger;
  auto report = verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0].message);
  EXPECT_EQ(report.addendaChecked, 2u);
  EXPECT_EQ(report.ledgerEntries, 3u);
}

TEST_F(AddendumTest, AChangedByteOfAnAddendumIsReported) {
  ASSERT_TRUE(add("{\"auditID\":\"b\"}\n").ok());
  fs::path trail = bundle_ / "addenda/1/audit-trail.jsonl";
  std::string bytes = read(trail);
  bytes[3] ^= 0x01;
  write(trail, bytes);
  auto report = verifyEvidence(dir_.string(), nullptr);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(reported(report, "addenda/1/audit-trail.jsonl", "the artifact changed"));
  // The snapshot folder alone, too.
  EXPECT_FALSE(verifyEvidence(bundle_.string(), nullptr).ok());
}

TEST_F(AddendumTest, AnAddendumWhoseParentIsNotTheManifestBeforeItBreaksTheChain) {
  ASSERT_TRUE(add("{\"auditID\":\"b\"}\n").ok());
  ASSERT_TRUE(add("{\"auditID\":\"c\"}\n").ok());
  // Addendum 1 replaced by a new one: addendum 2 no longer follows it, and the ledger disagrees.
  fs::path manifest = bundle_ / "addenda/1/manifest.json";
  std::string text = read(manifest);
  auto at = text.find("late audit events");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 4, "LATE");
  write(manifest, text);
  auto report = verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reported(report, "addenda/2/manifest.json", "the chain was broken"));
  EXPECT_TRUE(reported(report, "addenda/1", "changed after it was recorded"));
}

TEST_F(AddendumTest, ARemovedAddendumIsReported) {
  ASSERT_TRUE(add("{\"auditID\":\"b\"}\n").ok());
  ASSERT_TRUE(add("{\"auditID\":\"c\"}\n").ok());
  fs::remove_all(bundle_ / "addenda/2");
  auto report = verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(reported(report, "addenda/2", "its folder is missing"));
  fs::remove_all(bundle_ / "addenda/1");
  fs::create_directories(bundle_ / "addenda/2");
  EXPECT_TRUE(reported(verifyEvidence(dir_.string(), nullptr), "addenda/2",
                       "addendum 1 is missing before it"));
}

TEST_F(AddendumTest, AnAddendumForASnapshotThatWasNeverSealedIsRefused) {
  AddendumContent content;
  content.snapshotId = newSnapshotId();
  content.pod = {"shop", "web-0", "uid", ""};
  content.artifacts = {{"audit-trail.jsonl", "auditTrail", "x\n", ""}};
  auto added = store_->addAddendum(content);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(verifyEvidence(dir_.string(), nullptr).ok());
}

TEST_F(AddendumTest, ASnapshotArtifactMayNotTakeTheAddendaFolder) {
  SnapshotContent content;
  content.id = newSnapshotId();
  content.pod = {"shop", "web-1", "uid", ""};
  content.artifacts = {{"addenda/1/manifest.json", "x", "{}", ""}};
  EXPECT_EQ(store_->write(content).phase, SnapshotPhase::kFailed);
}

}  // namespace
}  // namespace podmortem::evidence
