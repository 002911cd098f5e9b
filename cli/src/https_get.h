#pragma once

#include <string>
#include <utility>
#include <vector>

#include "podmortem/core/result.h"

namespace podmortem::cli {

// One GET over cpprestsdk for kubectl podmortem's downloads (a replica's download port through a
// port-forward, a pre-signed S3 URL): TLS 1.2 or later, `caFile` as the only CA when given, no
// redirects. The body of a 2xx answer, or an error with the status and the answer's message.
core::Result<std::string> httpsGet(const std::string& url, const std::string& caFile,
                                   const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace podmortem::cli
