#include "podmortem/policy/directory_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "podmortem/policy/policy.h"

namespace podmortem::policy {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("podmortem-loader-test-" + std::to_string(::getpid()) +
                                         "-" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

std::string policyNamed(const std::string& name) {
  return "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]\n"
         "  actions: {snapshot: {}}\n";
}

std::string describe(const LoadResult& result) {
  std::string text;
  for (const auto& problem : result.problems)
    text += "\n  " + problem.toString();
  return text;
}

TEST(DirectoryLoaderTest, LoadsYamlYmlAndJsonFilesInNameOrder) {
  ScratchDir dir;
  dir.write("b.yml", policyNamed("second"));
  dir.write("a.yaml", policyNamed("first"));
  dir.write("c.json",
            R"({"apiVersion": "podmortem.io/v1alpha1", "kind": "ForensicPolicy",
                "metadata": {"name": "third"},
                "spec": {"triggers": [{"source": "audit", "verbs": ["get"],
                                       "resources": ["pods/exec"]}],
                         "actions": {"quarantine": true}}})");
  LoadResult result = loadPolicyDirectory(dir.path().string());
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  ASSERT_EQ(result.policies.size(), 3u);
  EXPECT_EQ(result.policies[0]->name, "first");
  EXPECT_EQ(result.policies[1]->name, "second");
  EXPECT_EQ(result.policies[2]->name, "third");
  EXPECT_EQ(result.policies[0]->source, (dir.path() / "a.yaml").string());
}

TEST(DirectoryLoaderTest, IgnoresOtherFilesHiddenFilesAndSubfolders) {
  ScratchDir dir;
  dir.write("notes.txt", "not a policy");
  dir.write("README.md", "# policies");
  dir.write(".a.yaml.swp", "editor state");
  dir.write(".hidden.yaml", policyNamed("hidden"));
  fs::create_directories(dir.path() / "nested.yaml");
  fs::create_directories(dir.path() / "sub");
  std::ofstream(dir.path() / "sub" / "deep.yaml") << policyNamed("deep");
  LoadResult result = loadPolicyDirectory(dir.path().string());
  EXPECT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_TRUE(result.policies.empty());
}

TEST(DirectoryLoaderTest, FollowsSymlinksLikeAConfigMapMount) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "..data");
  std::ofstream(dir.path() / "..data" / "p.yaml") << policyNamed("mounted");
  fs::create_symlink(dir.path() / "..data" / "p.yaml", dir.path() / "p.yaml");
  LoadResult result = loadPolicyDirectory(dir.path().string());
  ASSERT_EQ(result.policies.size(), 1u) << describe(result);
  EXPECT_EQ(result.policies[0]->name, "mounted");
}

TEST(DirectoryLoaderTest, BadFileIsAProblemAndOtherFilesStillLoad) {
  ScratchDir dir;
  dir.write("a.yaml", policyNamed("good"));
  dir.write("b.yaml", "spec: [unclosed\n");
  LoadResult result = loadPolicyDirectory(dir.path().string());
  ASSERT_EQ(result.policies.size(), 1u);
  EXPECT_EQ(result.rejected, 1u);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].source, (dir.path() / "b.yaml").string());
}

TEST(DirectoryLoaderTest, UnreadableFileIsAProblem) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root reads files whatever their mode";
  ScratchDir dir;
  dir.write("locked.yaml", policyNamed("locked"));
  fs::permissions(dir.path() / "locked.yaml", fs::perms::none);
  LoadResult result = loadPolicyDirectory(dir.path().string());
  EXPECT_TRUE(result.policies.empty());
  EXPECT_EQ(result.rejected, 1u);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].reason.find("cannot"), std::string::npos);
}

TEST(DirectoryLoaderTest, OversizedFileIsAProblemWithoutBeingRead) {
  ScratchDir dir;
  dir.write("huge.yaml", "");
  fs::resize_file(dir.path() / "huge.yaml", 64 * 1024 * 1024);  // sparse: costs no disk
  LoadResult result = loadPolicyDirectory(dir.path().string());
  EXPECT_TRUE(result.policies.empty());
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].reason.find("larger than"), std::string::npos);
}

TEST(DirectoryLoaderTest, SameNameInTwoFilesKeepsTheFirstFile) {
  ScratchDir dir;
  dir.write("10-team.yaml", policyNamed("shared"));
  dir.write("20-other.yaml", policyNamed("shared"));
  LoadResult result = loadPolicyDirectory(dir.path().string());
  ASSERT_EQ(result.policies.size(), 1u);
  EXPECT_EQ(result.policies[0]->source, (dir.path() / "10-team.yaml").string());
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].reason,
            "duplicate policy name, first defined in " + (dir.path() / "10-team.yaml").string());
}

TEST(DirectoryLoaderTest, MissingFolderIsAProblemNotAThrow) {
  ScratchDir dir;
  std::string missing = (dir.path() / "does-not-exist").string();
  LoadResult result;
  EXPECT_NO_THROW(result = loadPolicyDirectory(missing));
  EXPECT_TRUE(result.policies.empty());
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].source, missing);
}

TEST(DirectoryLoaderTest, PolicyFileNames) {
  EXPECT_TRUE(isPolicyFileName("a.yaml"));
  EXPECT_TRUE(isPolicyFileName("a.yml"));
  EXPECT_TRUE(isPolicyFileName("a.json"));
  EXPECT_FALSE(isPolicyFileName("a.yaml.bak"));
  EXPECT_FALSE(isPolicyFileName(".a.yaml"));
  EXPECT_FALSE(isPolicyFileName("yaml"));
}

fs::path examplesDir() {
#ifdef PODMORTEM_SOURCE_DIR
  return fs::path(PODMORTEM_SOURCE_DIR) / "examples" / "policies";
#else
  return fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "examples" / "policies";
#endif
}

TEST(DirectoryLoaderTest, ShippedExamplePoliciesLoadWithoutProblems) {
  LoadResult result = loadPolicyDirectory(examplesDir().string());
  EXPECT_TRUE(result.problems.empty()) << describe(result);
  ASSERT_EQ(result.policies.size(), 3u);
  EXPECT_EQ(result.policies[0]->name, "capture-on-delete");
  EXPECT_EQ(result.policies[1]->name, "exec-in-production");
  EXPECT_EQ(result.policies[2]->name, "exec-then-delete");

  const Policy& capture = *result.policies[0];
  ASSERT_EQ(capture.triggers.size(), 2u);
  EXPECT_EQ(capture.actions.snapshot->holdDeletion, std::chrono::seconds(10));
  EXPECT_EQ(capture.actions.snapshot->onTimeout, OnTimeout::kAllow);

  const Policy& exec = *result.policies[2];
  ASSERT_TRUE(exec.correlation.has_value());
  EXPECT_TRUE(exec.correlation->requireAudit.at(0).matches("get", "pods", "exec"));
  EXPECT_TRUE(exec.correlation->requireAudit.at(0).matches("create", "pods", "exec"));
  EXPECT_EQ(exec.actions.labels.count("podmortem.io/suspect"), 1u);
}

}  // namespace
}  // namespace podmortem::policy
