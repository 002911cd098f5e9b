#include "podmortem/policy/directory_watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace podmortem::policy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DirectoryWatcherTest : public ::testing::Test {
 protected:
  DirectoryWatcherTest() {
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("podmortem-watcher-test-" + std::to_string(::getpid()) +
                                        "-" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  ~DirectoryWatcherTest() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Writes the file and sets its mtime explicitly, so that a change is visible whatever the
  // filesystem's timestamp resolution and however fast the test runs.
  void write(const std::string& name, const std::string& text, int mtimeSeconds) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    touch(name, mtimeSeconds);
  }
  void touch(const std::string& name, int mtimeSeconds) {
    fs::last_write_time(dir_ / name,
                        fs::file_time_type::clock::now() - 1h + std::chrono::seconds(mtimeSeconds));
  }

  static std::string policyNamed(const std::string& name, const std::string& operation = "DELETE") {
    return "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: {name: " + name +
           "}\nspec:\n  triggers: [{source: admission, operations: [" + operation +
           "], resources: [pods]}]\n  actions: {snapshot: {}}\n";
  }

  fs::path dir_;
  PolicyStore store_;
};

TEST_F(DirectoryWatcherTest, FirstPollPublishesEvenAnEmptyFolder) {
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.generation(), 1u);
  EXPECT_EQ(store_.validCount(), 0u);
  EXPECT_FALSE(watcher.pollOnce()) << "nothing changed";
  EXPECT_EQ(store_.generation(), 1u);
}

TEST_F(DirectoryWatcherTest, PollPicksUpANewFile) {
  write("a.yaml", policyNamed("a"), 1);
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  ASSERT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.validCount(), 1u);

  write("b.yaml", policyNamed("b"), 2);
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.validCount(), 2u);
  EXPECT_NE(store_.current()->find("b"), nullptr);
  EXPECT_EQ(store_.generation(), 2u);
}

TEST_F(DirectoryWatcherTest, PollPicksUpAModifiedFileOfTheSameSize) {
  write("a.yaml", policyNamed("a", "DELETE"), 1);
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  ASSERT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.current()->find("a")->triggers[0].operations[0], "DELETE");

  // Same length, so only the mtime tells the change apart.
  write("a.yaml", policyNamed("a", "UPDATE"), 2);
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.current()->find("a")->triggers[0].operations[0], "UPDATE");
}

TEST_F(DirectoryWatcherTest, PollPicksUpARemovedFile) {
  write("a.yaml", policyNamed("a"), 1);
  write("b.yaml", policyNamed("b"), 1);
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  ASSERT_TRUE(watcher.pollOnce());
  ASSERT_EQ(store_.validCount(), 2u);

  fs::remove(dir_ / "a.yaml");
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.validCount(), 1u);
  EXPECT_EQ(store_.current()->find("a"), nullptr);
}

TEST_F(DirectoryWatcherTest, BrokenEditIsPublishedAsAProblemAndFixIsPickedUp) {
  write("a.yaml", policyNamed("a"), 1);
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  ASSERT_TRUE(watcher.pollOnce());

  write("a.yaml", policyNamed("a", "REMOVE"), 2);
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.validCount(), 0u);
  EXPECT_EQ(store_.invalidCount(), 1u);
  ASSERT_EQ(store_.problems().size(), 1u);
  EXPECT_EQ(store_.problems()[0].fieldPath, "spec.triggers[0].operations[0]");

  write("a.yaml", policyNamed("a"), 3);
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.validCount(), 1u);
  EXPECT_TRUE(store_.problems().empty());
}

TEST_F(DirectoryWatcherTest, FilesThatAreNotPoliciesDoNotTriggerAReload) {
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  ASSERT_TRUE(watcher.pollOnce());
  write("notes.txt", "scratch", 1);
  write(".a.yaml.swp", "editor", 1);
  EXPECT_FALSE(watcher.pollOnce());
}

TEST_F(DirectoryWatcherTest, MissingFolderIsPublishedOnceAsAProblem) {
  PolicyDirectoryWatcher watcher((dir_ / "absent").string(), store_, 1h);
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_EQ(store_.problems().size(), 1u);
  EXPECT_FALSE(watcher.pollOnce());

  fs::create_directories(dir_ / "absent");
  EXPECT_TRUE(watcher.pollOnce());
  EXPECT_TRUE(store_.problems().empty());
}

TEST_F(DirectoryWatcherTest, StopReturnsPromptlyDespiteALongInterval) {
  write("a.yaml", policyNamed("a"), 1);
  PolicyDirectoryWatcher watcher(dir_.string(), store_, 1h);
  watcher.start();
  watcher.start();  // second start is a no-op
  auto began = std::chrono::steady_clock::now();
  watcher.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 10s);
  // The thread polled at most once before stopping; a manual poll still works afterwards.
  watcher.pollOnce();
  EXPECT_EQ(store_.validCount(), 1u);
}

TEST_F(DirectoryWatcherTest, DestructorStopsARunningWatcher) {
  {
    PolicyDirectoryWatcher watcher(dir_.string(), store_, 1ms);
    watcher.start();
  }
  SUCCEED();
}

}  // namespace
}  // namespace podmortem::policy
