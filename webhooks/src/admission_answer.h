#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "podmortem/webhooks/http_types.h"

namespace podmortem::webhooks {

// The AdmissionReview v1 answer: allowed or denied (403 with `denyMessage`), the warnings kubectl
// prints, and audit annotations the API server records.
HttpResponse admissionAnswer(std::string_view uid, bool allowed,
                             const std::vector<std::string>& warnings, std::string_view denyMessage,
                             const std::vector<std::pair<std::string, std::string>>& annotations);

// The one-line texts of a held answer that did not wait for its capture.
std::string dryRunWarning(const std::string& policyName);
std::string holdTimeoutWarning(const std::string& snapshotId, const std::string& policyName);
std::string holdTimeoutDenial(const std::string& snapshotId, const std::string& policyName,
                              std::chrono::milliseconds hold);

}  // namespace podmortem::webhooks
