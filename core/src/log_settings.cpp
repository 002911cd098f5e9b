#include "podmortem/core/log_settings.h"

namespace podmortem::core {

void LogSettings::bind(SectionBinder<LogSettings>& keys) {
  keys.choice("level", &LogSettings::level,
              {{"debug", log::Level::kDebug},
               {"info", log::Level::kInfo},
               {"warn", log::Level::kWarn},
               {"error", log::Level::kError}},
              "debug, info, warn or error");
  keys.choice("format", &LogSettings::format,
              {{"json", log::Format::kJson}, {"text", log::Format::kText}}, "json or text");
}

}  // namespace podmortem::core
