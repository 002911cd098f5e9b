#include "podmortem/policy/policy_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "podmortem/policy/parser.h"

namespace podmortem::policy {
namespace {

std::string policyNamed(const std::string& name) {
  return "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]\n"
         "  actions: {snapshot: {}}\n";
}

TEST(PolicyStoreTest, StartsEmptyAtGenerationZero) {
  PolicyStore store;
  ASSERT_NE(store.current(), nullptr);
  EXPECT_EQ(store.current()->size(), 0u);
  EXPECT_EQ(store.generation(), 0u);
  EXPECT_EQ(store.validCount(), 0u);
  EXPECT_EQ(store.invalidCount(), 0u);
  EXPECT_TRUE(store.problems().empty());
}

TEST(PolicyStoreTest, ReplacePublishesPoliciesAndKeepsProblems) {
  PolicyStore store;
  LoadResult result = parsePolicyDocuments(
      policyNamed("a") + "---\n" + policyNamed("Bad_Name") + "---\n" + policyNamed("b"), "p.yaml");
  store.replace(std::move(result));
  EXPECT_EQ(store.generation(), 1u);
  EXPECT_EQ(store.validCount(), 2u);
  EXPECT_EQ(store.invalidCount(), 1u);
  ASSERT_EQ(store.problems().size(), 1u);
  EXPECT_EQ(store.problems()[0].source, "p.yaml#2");
  EXPECT_NE(store.current()->find("a"), nullptr);
  EXPECT_NE(store.current()->find("b"), nullptr);
}

TEST(PolicyStoreTest, ReaderKeepsItsSetAcrossReplace) {
  PolicyStore store;
  store.replace(parsePolicyDocuments(policyNamed("old"), "p.yaml"));
  std::shared_ptr<const PolicySet> held = store.current();
  store.replace(parsePolicyDocuments(policyNamed("new"), "p.yaml"));
  EXPECT_EQ(store.generation(), 2u);
  EXPECT_NE(held->find("old"), nullptr);
  EXPECT_EQ(store.current()->find("old"), nullptr);
  EXPECT_NE(store.current()->find("new"), nullptr);
  EXPECT_TRUE(store.problems().empty()) << "problems belong to the latest load only";
}

TEST(PolicyStoreTest, ConcurrentReadersSeeACompleteSetWhileWriterReplaces) {
  PolicyStore store;
  LoadResult two = parsePolicyDocuments(policyNamed("x") + "---\n" + policyNamed("y"), "p.yaml");
  const auto policies = two.policies;
  std::atomic<bool> done{false};
  std::atomic<int> badReads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto set = store.current();
        if (set->size() != 0 && set->size() != 2)
          ++badReads;
      }
    });
  }
  for (int i = 0; i < 200; ++i)
    store.replace(LoadResult{policies, {}, 0});
  done = true;
  for (auto& reader : readers)
    reader.join();
  EXPECT_EQ(badReads.load(), 0);
  EXPECT_EQ(store.generation(), 200u);
}

}  // namespace
}  // namespace podmortem::policy
