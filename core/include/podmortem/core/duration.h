#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace podmortem::core {

// Parses a Go/Kubernetes style duration ("20s", "1m30s", "500ms", "2h"). Returns nullopt for
// anything else, including negative values and a bare number without a unit.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace podmortem::core
