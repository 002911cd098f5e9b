// Bytes as podmortem's configuration file: every input is a configuration or a ConfigError.
#include <cstdint>
#include <string>

#include "podmortem/cli/config.h"

using namespace podmortem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = cli::configSchema().parse(text, "fuzz.yaml", "/nonexistent");
    cli::validateConfig(config);
  } catch (const core::ConfigError&) {
  }
  return 0;
}
