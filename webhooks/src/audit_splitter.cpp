#include "audit_splitter.h"

#include "podmortem/webhooks/audit_decoder.h"

namespace podmortem::webhooks {

namespace {

constexpr std::string_view kHead = R"({"apiVersion":"audit.k8s.io/v1","kind":"EventList","items":[)";
constexpr std::string_view kTail = "]}";

}  // namespace

SplitBatch splitAuditBatch(std::string& body, size_t limit, size_t maxEventBytes) {
  SplitBatch split;
  DecodedAudit decoded = decodeAuditPayload(body, maxEventBytes, RawBytes::kView);
  if (!decoded.error.empty()) {
    split.error = decoded.error;
    return split;
  }
  split.dropped = decoded.malformed + decoded.oversized;
  const size_t frame = kHead.size() + kTail.size();
  std::string part;
  for (std::string_view raw : decoded.rawViews) {
    if (raw.size() + frame > limit) {
      ++split.dropped;
      continue;
    }
    if (!part.empty() && part.size() + 1 + raw.size() + kTail.size() > limit) {
      part += kTail;
      split.parts.push_back(std::move(part));
      part.clear();
    }
    part += part.empty() ? kHead : std::string_view(",");
    part += raw;
  }
  if (!part.empty()) {
    part += kTail;
    split.parts.push_back(std::move(part));
  }
  return split;
}

}  // namespace podmortem::webhooks
