#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "podmortem/core/config.h"

namespace podmortem::stream {

// stream.*: the NATS JetStream cluster replicas share their audit stream and capture claims
// through. Without a url a replica works alone, as it always did.
struct StreamSettings {
  std::string url;  // comma-separated nats:// or tls:// URLs; empty: no stream
  std::string name = "PODMORTEM_AUDIT";
  uint32_t replicas = 1;  // JetStream replicas of the stream and the bucket; 3 on 3 servers
  uint64_t maxBytes = uint64_t{8} << 30;
  std::string claimsBucket = "PODMORTEM_CLAIMS";
  std::string caFile;    // CA bundle the servers' certificates are checked against
  std::string certFile;  // client certificate, when the servers ask for one
  std::string keyFile;
  std::string credentialsFile;  // NATS .creds (user JWT and NKey seed)
  std::chrono::milliseconds connectTimeout{std::chrono::seconds(5)};
  std::chrono::milliseconds ackTimeout{std::chrono::seconds(2)};
  std::chrono::milliseconds catchUpTimeout{std::chrono::seconds(60)};

  bool enabled() const { return !url.empty(); }
  std::vector<std::string> urls() const;  // url split at commas, blanks trimmed

  static void bind(core::SectionBinder<StreamSettings>& keys);
  core::Status validate() const;
};

}  // namespace podmortem::stream
