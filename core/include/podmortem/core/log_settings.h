#pragma once

#include "podmortem/core/config.h"
#include "podmortem/core/log.h"

namespace podmortem::core {

// log.*: how podmortem writes its log lines.
struct LogSettings {
  log::Level level = log::Level::kInfo;
  log::Format format = log::Format::kJson;

  static void bind(SectionBinder<LogSettings>& keys);
  Status validate() const { return {}; }
};

}  // namespace podmortem::core
