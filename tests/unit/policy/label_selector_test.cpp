#include "podmortem/policy/label_selector.h"

#include <gtest/gtest.h>

namespace podmortem::policy {
namespace {

const Labels kWebPod = {{"app", "web"}, {"tier", "frontend"}, {"env", "prod"}};

TEST(LabelSelectorTest, EmptySelectorMatchesEveryLabelSet) {
  LabelSelector selector;
  EXPECT_TRUE(selector.empty());
  EXPECT_TRUE(selector.matches(kWebPod));
  EXPECT_TRUE(selector.matches(Labels{}));
}

TEST(LabelSelectorTest, MatchLabelsNeedsEveryPairWithEqualValue) {
  LabelSelector selector;
  selector.matchLabels = {{"app", "web"}, {"env", "prod"}};
  EXPECT_FALSE(selector.empty());
  EXPECT_TRUE(selector.matches(kWebPod));
  EXPECT_FALSE(selector.matches(Labels{{"app", "web"}}));
  EXPECT_FALSE(selector.matches(Labels{{"app", "web"}, {"env", "dev"}}));
  EXPECT_FALSE(selector.matches(Labels{}));
}

TEST(LabelSelectorTest, InNeedsTheLabelWithOneOfTheValues) {
  LabelSelector selector;
  selector.matchExpressions = {{"env", SelectorOperator::kIn, {"prod", "staging"}}};
  EXPECT_TRUE(selector.matches(kWebPod));
  EXPECT_FALSE(selector.matches(Labels{{"env", "dev"}}));
  EXPECT_FALSE(selector.matches(Labels{{"app", "web"}}));
}

TEST(LabelSelectorTest, NotInMatchesOtherValuesAndAbsentLabel) {
  LabelSelector selector;
  selector.matchExpressions = {{"env", SelectorOperator::kNotIn, {"dev"}}};
  EXPECT_TRUE(selector.matches(kWebPod));
  EXPECT_TRUE(selector.matches(Labels{{"app", "web"}}));
  EXPECT_FALSE(selector.matches(Labels{{"env", "dev"}}));
}

TEST(LabelSelectorTest, ExistsIgnoresTheValue) {
  LabelSelector selector;
  selector.matchExpressions = {{"tier", SelectorOperator::kExists, {}}};
  EXPECT_TRUE(selector.matches(kWebPod));
  EXPECT_TRUE(selector.matches(Labels{{"tier", ""}}));
  EXPECT_FALSE(selector.matches(Labels{{"app", "web"}}));
}

TEST(LabelSelectorTest, DoesNotExistRejectsAnyValue) {
  LabelSelector selector;
  selector.matchExpressions = {{"podmortem.io/ignore", SelectorOperator::kDoesNotExist, {}}};
  EXPECT_TRUE(selector.matches(kWebPod));
  EXPECT_FALSE(selector.matches(Labels{{"podmortem.io/ignore", "true"}}));
  EXPECT_FALSE(selector.matches(Labels{{"podmortem.io/ignore", ""}}));
}

TEST(LabelSelectorTest, LabelsAndExpressionsMustAllHold) {
  LabelSelector selector;
  selector.matchLabels = {{"app", "web"}};
  selector.matchExpressions = {{"env", SelectorOperator::kIn, {"prod"}},
                               {"debug", SelectorOperator::kDoesNotExist, {}}};
  EXPECT_TRUE(selector.matches(kWebPod));
  Labels debugging = kWebPod;
  debugging["debug"] = "1";
  EXPECT_FALSE(selector.matches(debugging));
  EXPECT_FALSE(selector.matches(Labels{{"env", "prod"}}));
}

TEST(LabelSelectorTest, UnrelatedLabelsDoNotMatter) {
  LabelSelector selector;
  selector.matchLabels = {{"app", "web"}};
  Labels pod = {{"app", "web"}, {"pod-template-hash", "7d9f8c"}, {"example.com/owner", "team"}};
  EXPECT_TRUE(selector.matches(pod));
}

}  // namespace
}  // namespace podmortem::policy
