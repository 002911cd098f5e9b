// A bundle as one ustar archive: GNU tar reads what archiveBundle writes, and extractBundle
// refuses what could write outside its folder.
#include "podmortem/evidence/bundle_archive.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

TEST(BundleArchive, GnuTarListsAndUnpacksItAndExtractRoundTrips) {
  TempDir dir;
  const fs::path bundle = dir.path() / "bundle";
  writeFile(bundle / "manifest.json", "{}\n");
  writeFile(bundle / "logs" / "app.log", std::string(1300, 'x'));
  writeFile(bundle / "addenda" / "1" / "audit-trail.jsonl", "");
  std::string longName(63, 'c');  // the longest container name
  writeFile(bundle / "logs" / (longName + ".previous.log"), "long");  // over 100 bytes with its root
  auto archive = evidence::archiveBundle(bundle.string(), "0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  writeFile(dir.path() / "bundle.tar", *archive);

  auto listed = runCommand("tar -tvf " + (dir.path() / "bundle.tar").string() + " 2>&1");
  ASSERT_EQ(listed.exitCode, 0) << listed.output;
  EXPECT_NE(listed.output.find("0123456789abcdef0123456789abcdef/logs/app.log"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find(longName + ".previous.log"), std::string::npos) << listed.output;
  fs::create_directories(dir.path() / "gnu");
  auto unpacked = runCommand("tar -xf " + (dir.path() / "bundle.tar").string() + " -C " + (dir.path() / "gnu").string() + " 2>&1");
  ASSERT_EQ(unpacked.exitCode, 0) << unpacked.output;
  EXPECT_EQ(readFile(dir.path() / "gnu" / "0123456789abcdef0123456789abcdef" / "logs" / "app.log"), std::string(1300, 'x'));

  auto root = evidence::extractBundle(*archive, (dir.path() / "ours").string());
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(readFile(fs::path(*root) / "logs" / "app.log"), std::string(1300, 'x'));
  EXPECT_EQ(readFile(fs::path(*root) / "logs" / (longName + ".previous.log")), "long");
  EXPECT_TRUE(fs::is_directory(fs::path(*root) / "addenda" / "1"));
  EXPECT_FALSE(evidence::extractBundle(*archive, (dir.path() / "ours").string()).ok()) << "never over a folder there";

  // A byte changed in a header.
  std::string damaged = *archive;
  damaged[10] ^= 1;
  auto refused = evidence::extractBundle(damaged, (dir.path() / "damaged").string());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("checksum"), std::string::npos);
}

TEST(BundleArchive, ExtractRefusesPathsOutsideItsFolderAndLinks) {
  TempDir dir;
  writeFile(dir.path() / "src" / "a" / "f", "x");
  auto tar = [&](const std::string& flags) {
    auto made = runCommand("cd " + (dir.path() / "src").string() + " && tar --format=ustar " + flags + " -cf - " +
                           " 2>/dev/null | base64 -w0");
    return runCommand("echo " + made.output + " | base64 -d > " + (dir.path() / "t.tar").string()).exitCode == 0
               ? readFile(dir.path() / "t.tar")
               : std::string();
  };
  auto refusedWith = [&](const std::string& archive, const std::string& why) {
    auto result = evidence::extractBundle(archive, (dir.path() / "out").string());
    EXPECT_FALSE(result.ok()) << why;
    if (!result.ok()) {
      EXPECT_NE(result.error().message.find(why), std::string::npos) << result.error().message;
    }
  };
  refusedWith(tar("--transform=s,^a,../a, a"), "unsafe member path");
  refusedWith(tar("--absolute-names --transform=s,^a,/tmp/a, a"), "unsafe member path");
  fs::create_symlink("/etc/passwd", dir.path() / "src" / "a" / "link");
  refusedWith(tar("a"), "not a regular file or folder");
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "a")) << "nothing written before the whole archive was checked";
  EXPECT_FALSE(evidence::archiveBundle((dir.path() / "src" / "a").string(), "a").ok()) << "a symlink is never served";
  fs::remove(dir.path() / "src" / "a" / "link");
  // The same path twice (GNU tar appends a second copy with --append).
  std::string twice = tar("a");
  ASSERT_FALSE(twice.empty());
  writeFile(dir.path() / "t.tar", twice);
  ASSERT_EQ(runCommand("cd " + (dir.path() / "src").string() + " && tar --format=ustar -rf " +
                       (dir.path() / "t.tar").string() + " a/f").exitCode, 0);
  refusedWith(readFile(dir.path() / "t.tar"), "appears twice");
  // Another root than the snapshot asked for.
  auto wrongRoot = evidence::extractBundle(tar("a"), (dir.path() / "out").string(), "0123456789abcdef0123456789abcdef");
  ASSERT_FALSE(wrongRoot.ok());
  EXPECT_NE(wrongRoot.error().message.find("outside the root folder 0123456789abcdef0123456789abcdef"), std::string::npos)
      << wrongRoot.error().message;
}

}  // namespace
}  // namespace podmortem::testing
