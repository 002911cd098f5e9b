#pragma once

#include <string>

namespace podmortem::webhooks {

// "" when this CPU can run the JSON decoders as built, else what is missing and what to do.
std::string unsupportedCpuReason();

}  // namespace podmortem::webhooks
