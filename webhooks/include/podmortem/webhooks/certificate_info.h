#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace podmortem::webhooks {

// When the first certificate in a PEM file expires; nullopt when the file cannot be read or
// holds no certificate. For podmortem_tls_certificate_expiry_timestamp_seconds and renewal.
std::optional<std::chrono::system_clock::time_point> certificateNotAfter(const std::string& pemFile);
std::optional<std::chrono::system_clock::time_point> certificateNotAfterPem(const std::string& pem);

}  // namespace podmortem::webhooks
