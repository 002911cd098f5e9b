#include "podmortem/webhooks/cpu_check.h"

namespace podmortem::webhooks {

std::string unsupportedCpuReason() {
#if defined(PODMORTEM_JSON_NEEDS_AVX2) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2") ||
      !__builtin_cpu_supports("pclmul")) {
    return "this build's JSON decoders need an x86-64-v3 CPU (AVX2, BMI2, PCLMUL); rebuild with "
           "-DPODMORTEM_JSON_ARCH= for older CPUs";
  }
#endif
  return "";
}

}  // namespace podmortem::webhooks
