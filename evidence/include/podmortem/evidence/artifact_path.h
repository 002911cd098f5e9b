#pragma once

#include <string_view>

namespace podmortem::evidence {

// An artifact path inside a bundle ("pod.json", "logs/app.log"): relative, '/'-separated,
// segments of [A-Za-z0-9._-] that are neither empty nor "." or "..". The character set is
// narrower than POSIX allows so that paths are safe to show in a terminal and to pass to tools.
bool isSafeArtifactPath(std::string_view path);

}  // namespace podmortem::evidence
