#include "admission_answer.h"

#include <nlohmann/json.hpp>

namespace podmortem::webhooks {

namespace {

std::string shortId(const std::string& id) { return id.substr(0, 12); }

// Printable ASCII other than the quote and the backslash: copied into a JSON string as it is.
bool plainAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

// A JSON string literal, quotes included; invalid UTF-8 is replaced, never thrown on. Uids and
// most warnings are plain ASCII and are copied as they are (every answer pays this); the rest
// goes through nlohmann's encoder.
void appendQuoted(std::string& out, std::string_view text) {
  if (plainAscii(text)) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

HttpResponse admissionAnswer(std::string_view uid, bool allowed,
                             const std::vector<std::string>& warnings, std::string_view denyMessage,
                             const std::vector<std::pair<std::string, std::string>>& annotations) {
  std::string body =
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":)";
  appendQuoted(body, uid);
  body += allowed ? R"(,"allowed":true)" : R"(,"allowed":false)";
  if (!warnings.empty()) {
    body += R"(,"warnings":[)";
    for (size_t i = 0; i < warnings.size(); ++i) {
      if (i > 0) body += ',';
      appendQuoted(body, warnings[i]);
    }
    body += ']';
  }
  if (!allowed) {
    body += R"(,"status":{"code":403,"reason":"Forbidden","message":)";
    appendQuoted(body, denyMessage);
    body += '}';
  }
  if (!annotations.empty()) {
    body += R"(,"auditAnnotations":{)";
    for (size_t i = 0; i < annotations.size(); ++i) {
      if (i > 0) body += ',';
      appendQuoted(body, annotations[i].first);
      body += ':';
      appendQuoted(body, annotations[i].second);
    }
    body += '}';
  }
  body += "}}";
  HttpResponse http;
  http.body = std::move(body);
  return http;
}

std::string dryRunWarning(const std::string& policyName) {
  return "podmortem: dry run, no evidence captured (policy " + policyName + ")";
}

std::string holdTimeoutWarning(const std::string& snapshotId, const std::string& policyName) {
  return "podmortem: evidence snapshot " + shortId(snapshotId) +
         "… still being captured when the hold time ran out (policy " + policyName + ")";
}

std::string holdTimeoutDenial(const std::string& snapshotId, const std::string& policyName,
                              std::chrono::milliseconds hold) {
  return "podmortem: evidence capture " + shortId(snapshotId) +
         " for this pod did not finish within " + std::to_string(hold.count()) + " ms (policy " +
         policyName + ", onTimeout: deny); retry once it has finished";
}

}  // namespace podmortem::webhooks
