#include "podmortem/core/version.h"

namespace podmortem::core {

std::string_view version() { return PODMORTEM_VERSION; }

}  // namespace podmortem::core
