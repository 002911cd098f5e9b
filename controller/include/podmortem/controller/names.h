#pragma once

#include <string_view>

namespace podmortem::controller {

// Names that arrive in requests become folder names only after passing the same rules the API
// server applies, so a crafted name can never point outside the evidence folder.

// Namespace (and snapshot id) rule: at most 63 characters of [a-z0-9-], starting and ending
// with an alphanumeric.
bool isDns1123Label(std::string_view name);

// Pod name rule: at most 253 characters; one or more DNS-1123 labels joined by '.'.
bool isDns1123Subdomain(std::string_view name);

// An artifact path inside a bundle ("pod.json", "logs/app.log"): relative, '/'-separated,
// segments of [A-Za-z0-9._-] that are neither empty nor "." or "..". The character set is
// narrower than POSIX allows so that paths are safe to show in a terminal and to pass to tools.
bool isSafeArtifactPath(std::string_view path);

}  // namespace podmortem::controller
