#include "podmortem/policy/pod_record.h"

#include <gtest/gtest.h>

namespace podmortem::policy {
namespace {

TEST(ParsePod, ReadsIdentityLabelsNodeAndDeletion) {
  auto pod = parsePod(R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1",
      "namespace":"shop","uid":"u-1","labels":{"app":"web","tier":"front"},
      "deletionTimestamp":"2026-11-28T04:46:31Z"},"spec":{"nodeName":"worker-1"}})");
  ASSERT_TRUE(pod.ok()) << pod.error().message;
  EXPECT_EQ(pod->identity.namespaceName, "shop");
  EXPECT_EQ(pod->identity.name, "web-1");
  EXPECT_EQ(pod->identity.uid, "u-1");
  EXPECT_EQ(pod->identity.node, "worker-1");
  EXPECT_TRUE(pod->terminating);
  EXPECT_EQ(pod->labels, (Labels{{"app", "web"}, {"tier", "front"}}));
}

TEST(ParsePod, RefusesWhatIsNotAPodSayingWhichField) {
  auto message = [](std::string_view json) {
    auto pod = parsePod(json);
    EXPECT_FALSE(pod.ok()) << json;
    EXPECT_EQ(pod.ok() ? core::ErrorCode::kInternal : pod.error().code,
              core::ErrorCode::kInvalidArgument);
    return pod.ok() ? std::string() : pod.error().message;
  };
  EXPECT_FALSE(message("{").empty()) << "simdjson finds the truncation lazily";
  EXPECT_EQ(message("[]"), "is not an object");
  EXPECT_EQ(message(R"({"kind":"Secret"})"), "is not a Pod (kind \"Secret\")");
  EXPECT_EQ(message(R"({"kind":"Pod","metadata":{"labels":{"a":1}}})"),
            "metadata.labels must map strings to strings");
  EXPECT_EQ(message(R"({"kind":"Pod","metadata":{"uid":7}})"), "metadata.uid is not a string");
  EXPECT_EQ(message(R"({"kind":"Pod","spec":{"nodeName":[]}})"), "spec.nodeName is not a string");
}

}  // namespace
}  // namespace podmortem::policy
