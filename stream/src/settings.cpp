#include "podmortem/stream/settings.h"

#include <algorithm>
#include <cctype>

namespace podmortem::stream {

namespace {

core::Error invalid(std::string message) {
  return core::makeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

// JetStream names become subject tokens and file names: letters, digits, '-' and '_' only.
bool isStreamName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_';
         });
}

}  // namespace

std::vector<std::string> StreamSettings::urls() const {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= url.size()) {
    size_t comma = url.find(',', start);
    if (comma == std::string::npos) comma = url.size();
    std::string part = url.substr(start, comma - start);
    auto notSpace = [](unsigned char c) { return !std::isspace(c); };
    part.erase(part.begin(), std::find_if(part.begin(), part.end(), notSpace));
    part.erase(std::find_if(part.rbegin(), part.rend(), notSpace).base(), part.end());
    if (!part.empty()) out.push_back(std::move(part));
    start = comma + 1;
  }
  return out;
}

void StreamSettings::bind(core::SectionBinder<StreamSettings>& keys) {
  keys.text("url", &StreamSettings::url,
            "NATS servers replicas share the audit stream and capture claims through, "
            "comma-separated nats:// or tls:// URLs")
      .whenUnset("no stream: each replica correlates only what it receives");
  keys.text("name", &StreamSettings::name, "JetStream stream holding the audit events", true);
  keys.integer("replicas", &StreamSettings::replicas, 1, 5,
               "JetStream replicas of the stream and the claims bucket (3 on a 3-server cluster)");
  keys.integer("maxBytes", &StreamSettings::maxBytes, uint64_t{1} << 20, uint64_t{1} << 50,
               "bytes the stream keeps at most (its age limit is audit.window)");
  keys.text("claimsBucket", &StreamSettings::claimsBucket,
            "JetStream key-value bucket of capture claims", true);
  keys.path("tls.caFile", &StreamSettings::caFile,
            "CA bundle (PEM) the NATS servers' certificates are checked against");
  keys.path("tls.certFile", &StreamSettings::certFile,
            "client certificate (PEM) for NATS servers that ask for one");
  keys.path("tls.keyFile", &StreamSettings::keyFile, "private key of stream.tls.certFile (PEM)");
  keys.path("credentialsFile", &StreamSettings::credentialsFile,
            "NATS credentials file (.creds: user JWT and NKey seed)");
  keys.duration("connectTimeout", &StreamSettings::connectTimeout,
                "time allowed for connecting to a NATS server");
  keys.duration("ackTimeout", &StreamSettings::ackTimeout,
                "time JetStream may take to store an audit batch before /audit answers 503");
  keys.duration("catchUpTimeout", &StreamSettings::catchUpTimeout,
                "at start, how long /readyz waits for the window to be rebuilt from the stream");
}

core::Status StreamSettings::validate() const {
  if (!enabled()) return {};
  auto list = urls();
  if (list.empty()) return invalid("stream.url: expected nats:// or tls:// URLs, got '" + url + "'");
  for (const auto& one : list) {
    if (one.rfind("nats://", 0) != 0 && one.rfind("tls://", 0) != 0) {
      return invalid("stream.url: expected nats:// or tls:// URLs, got '" + one + "'");
    }
  }
  if (!isStreamName(name)) {
    return invalid("stream.name: expected letters, digits, '-' or '_', got '" + name + "'");
  }
  if (!isStreamName(claimsBucket)) {
    return invalid("stream.claimsBucket: expected letters, digits, '-' or '_', got '" +
                   claimsBucket + "'");
  }
  if (certFile.empty() != keyFile.empty()) {
    return invalid("stream.tls.certFile and stream.tls.keyFile must be set together");
  }
  return {};
}

}  // namespace podmortem::stream
