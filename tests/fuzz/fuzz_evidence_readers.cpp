// Bytes as what `podmortem verify` reads from an evidence volume an attacker may have touched:
// custody-ledger lines and manifest.json.
#include <cstdint>
#include <string>

#include "podmortem/evidence/custody_ledger.h"
#include "podmortem/evidence/manifest.h"

using namespace podmortem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    evidence::LedgerEntry entry;
    if (evidence::parseLedgerLine(text.substr(start, end - start), entry)) {
      (void)evidence::formatLedgerLine(entry);
    }
    start = end + 1;
  }
  auto parsed = evidence::manifest::parse(text);
  if (parsed.ok()) (void)parsed->artifacts.size();
  return 0;
}
