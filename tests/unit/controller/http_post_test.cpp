#include "http_post.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace podmortem::controller {
namespace {

TEST(HttpDelivery, WhatAnAnswerMeansForAFinding) {
  EXPECT_EQ(deliveryOf({204, "", ""}).result, Delivery::Result::kSent);
  EXPECT_EQ(deliveryOf({400, "bad", ""}).result, Delivery::Result::kRejected);
  EXPECT_EQ(deliveryOf({422, "", ""}).result, Delivery::Result::kRejected);
  // Credentials, a wrong URL, throttling and server errors are fixed outside: keep and retry.
  for (int status : {401, 403, 404, 408, 429, 500, 503}) {
    EXPECT_EQ(deliveryOf({status, "", ""}).result, Delivery::Result::kRetry) << status;
  }
  auto unauthorized = deliveryOf({401, "{\"text\":\"Invalid token\"}\n", ""});
  EXPECT_EQ(unauthorized.reasonLabel, "unauthorized");
  EXPECT_EQ(unauthorized.reason, "HTTP 401: {\"text\":\"Invalid token\"}  (check the sink's credentials)");
  auto down = deliveryOf({0, "", "POST https://siem/x failed: connection refused"});
  EXPECT_EQ(down.result, Delivery::Result::kRetry);
  EXPECT_EQ(down.reasonLabel, "unreachable");
  EXPECT_EQ(deliveryOf({503, "", ""}).reasonLabel, "server_error");
  EXPECT_EQ(deliveryOf({429, "", ""}).reasonLabel, "throttled");
}

TEST(HeadersFile, NameValueLinesCommentsAndBlankLines) {
  testing::TempDir dir;
  testing::writeFile(dir.path() / "h", "# from a Secret\n\nAuthorization: Bearer abc:def\r\nX-Tenant:  blue \n");
  auto headers = readHeadersFile((dir.path() / "h").string());
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer abc:def"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"X-Tenant", "blue"}));
}

TEST(HeadersFile, ALineThatIsNotAHeaderIsRefusedWithoutShowingIt) {
  testing::TempDir dir;
  testing::writeFile(dir.path() / "h", "Authorization: ok\nsecret-value-without-a-name\n");
  try {
    readHeadersFile((dir.path() / "h").string());
    FAIL() << "accepted";
  } catch (const std::runtime_error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret-value"), std::string::npos) << message;
  }
  EXPECT_THROW(readHeadersFile((dir.path() / "missing").string()), std::runtime_error);
}

}  // namespace
}  // namespace podmortem::controller
