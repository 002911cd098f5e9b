// Bytes as a kubeconfig: every input is a connection or a ConfigError naming what is wrong.
#include <cstdint>
#include <string>

#include "podmortem/kube/connection.h"

using namespace podmortem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)kube::kubeconfigConnectionFromText(text, "fuzz-kubeconfig", "/nonexistent");
  } catch (const kube::ConfigError&) {
  }
  return 0;
}
