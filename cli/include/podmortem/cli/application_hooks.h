#pragma once

#include <memory>
#include <vector>

#include "podmortem/controller/collector.h"

namespace podmortem::cli {

// What an integration test may replace in an otherwise real server. Empty in production.
struct ApplicationHooks {
  // Registered over the built-in collectors of the same name (e.g. one that hangs).
  std::vector<std::shared_ptr<controller::Collector>> collectors;
};

}  // namespace podmortem::cli
