// Bytes as what `kubectl podmortem get` and `podmortem report` read from a bundle someone else
// made: the downloaded archive (extractBundle), and the audit trail, events, container log and
// pod of a bundle (the report's timeline and its HTML page).
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "podmortem/evidence/bundle_archive.h"
#include "podmortem/report/report.h"

using namespace podmortem;
namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = R"({"apiVersion":"podmortem.io/v1alpha1","kind":"EvidenceManifest",
"snapshotId":"0123456789abcdef0123456789abcdef","createdAt":"2024-05-01T12:00:10.000Z","phase":"Complete",
"policy":{"name":"p"},"trigger":{"source":"admission","time":"2024-05-01T12:00:09.900Z"},
"pod":{"namespace":"shop","name":"web-0"},"artifacts":[
{"path":"audit-trail.jsonl","sha256":"x"},{"path":"events.json","sha256":"x"},
{"path":"logs/app.log","sha256":"x"},{"path":"pod.json","sha256":"x"}]})";

const fs::path& workDir() {
  static const fs::path dir = [] {
    fs::path made = fs::temp_directory_path() / ("fuzz-bundle-report-" + std::to_string(::getpid()));
    fs::create_directories(made / "bundle" / "logs");
    std::ofstream(made / "bundle" / "manifest.json") << kManifest;
    return made;
  }();
  return dir;
}

void write(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const fs::path& dir = workDir();
  std::error_code ec;
  auto root = evidence::extractBundle(bytes, (dir / "extracted").string());
  fs::remove_all(dir / "extracted", ec);

  const fs::path bundle = dir / "bundle";
  for (const char* name : {"audit-trail.jsonl", "events.json", "logs/app.log", "pod.json"}) write(bundle / name, bytes);
  auto timeline = report::buildTimeline(bundle.string(), {});
  if (timeline.ok()) (void)report::renderHtml(*timeline).size();
  return 0;
}
