#pragma once

#include <string_view>

namespace podmortem::core {

// The release version, stamped into evidence manifests, logs and podmortem_build_info.
std::string_view version();

}  // namespace podmortem::core
