#pragma once

// One bundle as one archive: what GET /evidence/{id} serves and `kubectl podmortem get` unpacks.
// POSIX ustar (readable by every tar), members under "<root>/", regular files and folders only.
// Written by hand: the format is 512-byte headers, and libarchive would bring ten more shared
// libraries into the FROM-scratch image for it.

#include <string>
#include <string_view>

#include "podmortem/core/result.h"

namespace podmortem::evidence {

// Every regular file and folder below `bundleDir` (addenda included), as "<root>/<path>".
// Symlinks and other special files are refused, never followed.
core::Result<std::string> archiveBundle(const std::string& bundleDir, const std::string& root);

// Unpacks an archive of archiveBundle into `destination` (created if missing). Refuses, before
// writing anything, a damaged header (checksum), a member that is not a regular file or folder,
// an absolute path, "..", a path twice or both file and folder, a member outside the root folder
// `root` (empty: whatever the first member names), or a root already there. Returns the root
// folder's path.
core::Result<std::string> extractBundle(std::string_view archive, const std::string& destination,
                                        const std::string& root = "");

}  // namespace podmortem::evidence
