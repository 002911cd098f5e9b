#include "podmortem/core/kubernetes_names.h"

#include <gtest/gtest.h>

#include <string>

namespace podmortem::core::names {
namespace {

TEST(Dns1123Label, AcceptsKubernetesNamespaceNames) {
  EXPECT_TRUE(isDns1123Label("default"));
  EXPECT_TRUE(isDns1123Label("kube-system"));
  EXPECT_TRUE(isDns1123Label("a"));
  EXPECT_TRUE(isDns1123Label("0team-42"));
  EXPECT_TRUE(isDns1123Label(std::string(63, 'a')));
}

TEST(Dns1123Label, RejectsTraversalSlashesUpperCaseAndEmpty) {
  EXPECT_FALSE(isDns1123Label(""));
  EXPECT_FALSE(isDns1123Label("../x"));
  EXPECT_FALSE(isDns1123Label(".."));
  EXPECT_FALSE(isDns1123Label("a/b"));
  EXPECT_FALSE(isDns1123Label("Default"));
  EXPECT_FALSE(isDns1123Label("-lead"));
  EXPECT_FALSE(isDns1123Label("trail-"));
  EXPECT_FALSE(isDns1123Label("has.dot"));
  EXPECT_FALSE(isDns1123Label(std::string("a\0b", 3)));
  EXPECT_FALSE(isDns1123Label(std::string(64, 'a')));
}

TEST(Dns1123Subdomain, AcceptsPodNames) {
  EXPECT_TRUE(isDns1123Subdomain("web-7d4b9c-x2x9z"));
  EXPECT_TRUE(isDns1123Subdomain("etcd-control-plane.example"));
  EXPECT_TRUE(isDns1123Subdomain("a.b.c"));
  EXPECT_TRUE(isDns1123Subdomain(std::string(253, 'a')));
}

TEST(Dns1123Subdomain, RejectsTraversalSlashesUpperCaseAndEmpty) {
  EXPECT_FALSE(isDns1123Subdomain(""));
  EXPECT_FALSE(isDns1123Subdomain("."));
  EXPECT_FALSE(isDns1123Subdomain(".."));
  EXPECT_FALSE(isDns1123Subdomain("../x"));
  EXPECT_FALSE(isDns1123Subdomain("a/b"));
  EXPECT_FALSE(isDns1123Subdomain("Web-0"));
  EXPECT_FALSE(isDns1123Subdomain("a..b"));
  EXPECT_FALSE(isDns1123Subdomain(".a"));
  EXPECT_FALSE(isDns1123Subdomain("a."));
  EXPECT_FALSE(isDns1123Subdomain("a.-b"));
  EXPECT_FALSE(isDns1123Subdomain("a b"));
  EXPECT_FALSE(isDns1123Subdomain(std::string(254, 'a')));
}

}  // namespace
}  // namespace podmortem::core::names
