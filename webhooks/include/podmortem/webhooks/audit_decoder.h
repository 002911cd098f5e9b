#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/policy/audit_event.h"

namespace podmortem::webhooks {

// What one audit webhook body yields. A bad item costs only itself: the API server batches
// events from every client, and one odd event must not hide the others.
struct DecodedAudit {
  std::vector<policy::AuditEvent> events;  // well-formed events, in body order
  // With RawBytes::kView: events[i].raw is empty and rawViews[i] points at the event's bytes in
  // the body, valid while the body is.
  std::vector<std::string_view> rawViews;
  size_t malformed = 0;  // items that are not audit Events ({"kind":0}, no auditID, wrong types)
  size_t oversized = 0;  // items whose raw JSON is larger than maxEventBytes
  // Non-empty when the body as a whole is unusable (not JSON, not an object or array, an
  // EventList whose items is not a list). Then events is empty and both counts are 0.
  std::string error;
};

// Decodes an audit webhook body with simdjson's on-demand API: an audit.k8s.io/v1 or v1beta1
// EventList, a single Event, a JSON array of Events, or JSON lines (one Event per line). Items
// may carry apiVersion v1, v1beta1 or none. `body` should have SIMDJSON_PADDING bytes of spare
// capacity after size() (the HTTP server reads bodies that way); otherwise it is reserved once.
// maxEventBytes 0 means no limit.
// kView saves a copy of every event's bytes where the caller stores them elsewhere anyway.
enum class RawBytes { kCopy, kView };
DecodedAudit decodeAuditPayload(std::string& body, size_t maxEventBytes,
                                RawBytes raw = RawBytes::kCopy);

// One line of an API server --audit-log-path file. Returns "" with `out` filled, or why the
// line is not an Event.
std::string decodeAuditLine(std::string_view line, policy::AuditEvent& out);

// An RFC 3339 time as the API server writes it ("2026-11-28T04:46:31.169620Z", or with a
// numeric offset) in microseconds since the epoch; digits past microseconds are truncated.
// nullopt for anything else, including impossible dates.
std::optional<int64_t> parseAuditTimestamp(std::string_view text);

}  // namespace podmortem::webhooks
