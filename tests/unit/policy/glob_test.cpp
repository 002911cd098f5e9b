#include "podmortem/policy/glob.h"

#include <gtest/gtest.h>

namespace podmortem::policy {
namespace {

TEST(GlobTest, LiteralPatternMatchesOnlyItself) {
  EXPECT_TRUE(globMatch("default", "default"));
  EXPECT_FALSE(globMatch("default", "default2"));
  EXPECT_FALSE(globMatch("default", "defaul"));
  EXPECT_FALSE(globMatch("default", ""));
}

TEST(GlobTest, StarMatchesAnyRunIncludingEmpty) {
  EXPECT_TRUE(globMatch("prod-*", "prod-"));
  EXPECT_TRUE(globMatch("prod-*", "prod-eu-west"));
  EXPECT_FALSE(globMatch("prod-*", "production"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("*", "anything at all"));
  EXPECT_TRUE(globMatch("*-db", "orders-db"));
  EXPECT_TRUE(globMatch("a*b*c", "aXXbYYbZZc"));
  EXPECT_FALSE(globMatch("a*b*c", "aXXbYYbZZ"));
}

TEST(GlobTest, StarCrossesSlashAndColon) {
  EXPECT_TRUE(globMatch("pods/*", "pods/exec"));
  EXPECT_FALSE(globMatch("pods/*", "pods"));
  EXPECT_TRUE(globMatch("*", "pods/eviction"));
  EXPECT_TRUE(globMatch("system:serviceaccount:kube-system:*",
                        "system:serviceaccount:kube-system:replicaset-controller"));
  EXPECT_FALSE(
      globMatch("system:serviceaccount:kube-system:*", "system:serviceaccount:default:builder"));
  EXPECT_TRUE(globMatch("system:*:kube-system:*", "system:serviceaccount:kube-system:x"));
}

TEST(GlobTest, QuestionMarkMatchesExactlyOneCharacter) {
  EXPECT_TRUE(globMatch("team-?", "team-a"));
  EXPECT_FALSE(globMatch("team-?", "team-"));
  EXPECT_FALSE(globMatch("team-?", "team-ab"));
  EXPECT_TRUE(globMatch("?*", "x"));
  EXPECT_FALSE(globMatch("?*", ""));
}

TEST(GlobTest, MatchingIsCaseSensitive) {
  EXPECT_FALSE(globMatch("Prod-*", "prod-a"));
  EXPECT_FALSE(globMatch("DELETE", "delete"));
}

TEST(GlobTest, PathologicalPatternFinishesQuickly) {
  std::string text(2000, 'a');
  EXPECT_FALSE(globMatch("*a*a*a*a*a*a*a*a*b", text));
}

TEST(GlobTest, MatchAnyNeedsOnePatternAndEmptyListMatchesNothing) {
  EXPECT_TRUE(globMatchAny({"default", "prod-*"}, "prod-a"));
  EXPECT_FALSE(globMatchAny({"default", "prod-*"}, "staging"));
  EXPECT_FALSE(globMatchAny({}, "default"));
}

TEST(GlobTest, ResourceMatchingJoinsSubresourceWithSlash) {
  EXPECT_TRUE(globMatchResource("pods", "pods", ""));
  EXPECT_FALSE(globMatchResource("pods", "pods", "exec"));
  EXPECT_TRUE(globMatchResource("pods/exec", "pods", "exec"));
  EXPECT_TRUE(globMatchResource("pods/*", "pods", "eviction"));
  EXPECT_FALSE(globMatchResource("pods/*", "pods", ""));
  EXPECT_TRUE(globMatchResource("*", "pods", "portforward"));
  EXPECT_TRUE(globMatchResource("pods/?xec", "pods", "exec"));
  EXPECT_FALSE(globMatchResource("pods/exec", "pods", "execute"));
  EXPECT_TRUE(globMatchResource("*/exec", "pods", "exec"));
}

}  // namespace
}  // namespace podmortem::policy
