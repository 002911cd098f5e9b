// Bytes as the body of POST /audit, and as one line of an --audit-log-path file: every shape the
// decoder accepts (EventList, Event, array, JSON lines; v1, v1beta1), then indexing.
#include <cstdint>
#include <string>

#include "podmortem/policy/correlation_window.h"
#include "podmortem/webhooks/audit_decoder.h"

using namespace podmortem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A window of its own per input, small: what one batch does to an index, not how a full one
  // evicts (the correlation window's own tests cover that).
  policy::CorrelationWindow window(
      policy::CorrelationWindow::Options{std::chrono::hours(1), 256, "", 64ull << 20});
  std::string body;
  body.reserve(size + 64);
  body.assign(reinterpret_cast<const char*>(data), size);
  auto decoded = webhooks::decodeAuditPayload(body, 64 * 1024, webhooks::RawBytes::kCopy);
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  for (const auto& event : decoded.events) {
    window.add(event, now);
    if (event.isPodEvent()) {
      window.trailForPod(event.namespaceName, event.name, now - std::chrono::hours(1));
    }
  }
  policy::AuditEvent line;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)webhooks::decodeAuditLine(text.substr(0, text.find('\n')), line);
  return 0;
}
