// YAML from anyone reaches yaml-cpp only after libyaml accepted it: inputs that make yaml-cpp 0.7
// loop forever (found by fuzzing the policy parser) or recurse without bound are refused.
#include "podmortem/core/yaml.h"

#include <gtest/gtest.h>

namespace podmortem::core {
namespace {

TEST(LoadYaml, AFlowCollectionFollowedByACommaIsRefusedInsteadOfHanging) {
  for (const char* text : {"[a],", "{a: b},", "{\"\":},", "{a: b}, c"}) {
    int line = -1;
    auto loaded = loadYamlDocuments(text, &line);
    ASSERT_FALSE(loaded.ok()) << text;
    EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(loaded.error().message.find("not valid YAML at line 1"), std::string::npos)
        << loaded.error().message;
    EXPECT_EQ(line, 1);
  }
}

TEST(LoadYaml, TagsAnchorsAliasesAndComplexKeysAreRefused) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"! o\n,", "tags (!tag) are not supported"},
      {"! c\n? ", "tags (!tag) are not supported"},
      {"a: !!str 1", "tags (!tag) are not supported"},
      {"a: &x 1\nb: *x", "anchors (&name) are not supported"},
      {"? [a]\n: b", "complex keys (? key) are not supported"},
      {"{[a]: b}", "complex keys (? key) are not supported"},
  };
  for (const auto& [text, why] : cases) {
    auto loaded = loadYamlDocuments(text);
    ASSERT_FALSE(loaded.ok()) << text;
    EXPECT_NE(loaded.error().message.find(why), std::string::npos)
        << text << " -> " << loaded.error().message;
  }
  EXPECT_TRUE(loadYamlDocuments("a: {b: [1, {c: d}]}\ne:\n  - f: g\n").ok());
}

TEST(LoadYaml, NestingDeeperThanTheLimitIsRefused) {
  std::string deep(kMaxYamlDepth + 1, '[');
  deep += std::string(kMaxYamlDepth + 1, ']');
  auto loaded = loadYamlDocuments(deep);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("nested deeper than 64"), std::string::npos);
  std::string fine(kMaxYamlDepth, '[');
  fine += std::string(kMaxYamlDepth, ']');
  EXPECT_TRUE(loadYamlDocuments(fine).ok());
}

TEST(LoadYaml, DocumentsJsonAndEmptyTextLoad) {
  auto documents = loadYamlDocuments("a: 1\n---\nb: [2, 3]\n");
  ASSERT_TRUE(documents.ok());
  ASSERT_EQ(documents->size(), 2u);
  EXPECT_EQ((*documents)[1]["b"][1].as<int>(), 3);
  auto json = loadYamlDocument(R"({"kind": "ForensicPolicy", "spec": {"x": [1, 2]}})");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["kind"].as<std::string>(), "ForensicPolicy");
  auto empty = loadYamlDocument("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->IsNull());
  EXPECT_FALSE(loadYamlDocument("a: 1\n---\nb: 2\n").ok()) << "one document expected";
}

}  // namespace
}  // namespace podmortem::core
