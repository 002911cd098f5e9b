#include <cstdio>

#include "commands.h"
#include "podmortem/core/version.h"

namespace podmortem::cli {

namespace {
constexpr const char* kVersionUsage =
    "Usage: podmortem version\n"
    "\n"
    "Prints the podmortem version.\n";
}

int versionCommand(Arguments& args) {
  while (auto flag = args.nextFlag()) {
    if (*flag == "--help" || *flag == "-h") {
      std::fputs(kVersionUsage, stdout);
      return 0;
    }
    return usageError(kVersionUsage, "unknown flag " + *flag);
  }
  if (!args.done()) return usageError(kVersionUsage, "unexpected argument");
  std::printf("podmortem %.*s\n", static_cast<int>(core::version().size()),
              core::version().data());
  return 0;
}

}  // namespace podmortem::cli
