#pragma once

#include <memory>
#include <string>

#include "findings_outbox.h"
#include "podmortem/controller/settings.h"

namespace podmortem::controller {

// What one delivery attempt came to.
struct Delivery {
  enum class Result {
    kSent,      // the sink took it
    kRetry,     // down, busy, refused our credentials: try again later, keep it
    kRejected,  // the sink says this finding itself is bad (HTTP 400): retrying cannot help
  };
  Result result = Result::kRetry;
  std::string reason;  // one line for logs and metrics' reason label; empty when sent
  std::string reasonLabel = "unreachable";  // a short, bounded word for the metrics
};

// A place findings go. deliver() blocks for at most the sink's timeout; it runs on the sink's own
// worker, one finding at a time, so that each pod's findings arrive in order.
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual Delivery deliver(const OutboxRecord& record) = 0;
};

// `host`: the name syslog headers and HEC events carry (the replica).
std::unique_ptr<FindingSink> makeHttpSink(const SinkSettings& settings);
std::unique_ptr<FindingSink> makeSplunkHecSink(const SinkSettings& settings, std::string host);
std::unique_ptr<FindingSink> makeSyslogSink(const SinkSettings& settings, std::string host);

inline std::unique_ptr<FindingSink> makeSink(const SinkSettings& settings, const std::string& host) {
  switch (settings.type) {
    case SinkType::kHttp:
      return makeHttpSink(settings);
    case SinkType::kSplunkHec:
      return makeSplunkHecSink(settings, host);
    case SinkType::kSyslog:
      return makeSyslogSink(settings, host);
  }
  return nullptr;
}

}  // namespace podmortem::controller
