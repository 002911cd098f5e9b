// The AdmissionReview answer is written by hand (no JSON DOM on the request path): it must
// still be valid JSON whatever the uid and the warnings hold.
#include "admission_answer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace podmortem::webhooks {
namespace {

TEST(AdmissionAnswer, APlainAnswerIsTheExpectedJson) {
  auto http = admissionAnswer("705ab4f5-6393-11e8-b7cc-42010a800002", true, {}, "", {});
  EXPECT_EQ(http.body,
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":)"
            R"({"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true}})");
}

TEST(AdmissionAnswer, QuotesControlCharactersAndBadUtf8AreEncodedNotCopied) {
  std::string badUtf8 = "caf\xc3 \xff!";
  auto http = admissionAnswer("uid-\"1\"\\", false, {"line one\nline \"two\"", badUtf8},
                              "denied\tbecause", {{"podmortem.io/snapshot", "ab\x01"}});
  auto parsed = nlohmann::json::parse(http.body);  // throws on invalid JSON
  const auto& response = parsed.at("response");
  EXPECT_EQ(response.at("uid"), "uid-\"1\"\\");
  EXPECT_EQ(response.at("allowed"), false);
  EXPECT_EQ(response.at("warnings").at(0), "line one\nline \"two\"");
  EXPECT_EQ(response.at("warnings").at(1), "caf\xef\xbf\xbd \xef\xbf\xbd!")
      << "invalid UTF-8 is replaced by U+FFFD";
  EXPECT_EQ(response.at("status").at("message"), "denied\tbecause");
  EXPECT_EQ(response.at("auditAnnotations").at("podmortem.io/snapshot"), "ab\x01");
}

TEST(AdmissionAnswer, ValidUtf8IsKept) {
  auto http = admissionAnswer("u", true, {"podmortem: evidence snapshot 0123… captured"}, "", {});
  auto parsed = nlohmann::json::parse(http.body);
  EXPECT_EQ(parsed.at("response").at("warnings").at(0), "podmortem: evidence snapshot 0123… captured");
}

}  // namespace
}  // namespace podmortem::webhooks
