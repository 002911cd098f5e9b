#include "recovery.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "podmortem/core/file_io.h"
#include "podmortem/core/kubernetes_names.h"
#include "podmortem/core/log.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/evidence/store.h"

namespace podmortem::evidence::recovery {

namespace fileio = core::fileio;

namespace fs = std::filesystem;
namespace log = core::log;

namespace {

std::set<std::string> bundlesInLedger(const std::string& path) {
  std::set<std::string> bundles;
  std::ifstream in(path);
  LedgerEntry entry;
  for (std::string line; std::getline(in, line);) {
    if (parseLedgerLine(line, entry)) bundles.insert(entry.bundle);
  }
  return bundles;
}

// Every <namespace>/<pod>/<entry> under the evidence folder, by name rules, no symlinks.
template <class Visit>
void forEachSnapshotEntry(const fs::path& root, Visit visit) {
  std::error_code ec;
  for (const auto& ns : fs::directory_iterator(root, ec)) {
    std::string nsName = ns.path().filename().string();
    if (!ns.is_directory(ec) || ns.is_symlink(ec) || !core::names::isDns1123Label(nsName)) continue;
    for (const auto& pod : fs::directory_iterator(ns.path(), ec)) {
      std::string podName = pod.path().filename().string();
      if (!pod.is_directory(ec) || pod.is_symlink(ec) || !core::names::isDns1123Subdomain(podName)) {
        continue;
      }
      for (const auto& entry : fs::directory_iterator(pod.path(), ec)) {
        if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
          visit(nsName, podName, entry.path());
        }
      }
    }
  }
}

bool quarantine(const fs::path& root, const std::string& ns, const std::string& pod,
                const fs::path& temporary) {
  fs::path target = root / kQuarantineFolder / ns / pod;
  std::error_code ec;
  fs::create_directories(target, ec);
  fs::permissions(root / kQuarantineFolder, fs::perms::owner_all, ec);
  std::string name = temporary.filename().string() + "-" +
                     std::to_string(std::chrono::system_clock::to_time_t(
                         std::chrono::system_clock::now()));
  fs::rename(temporary, target / name, ec);
  if (ec) {
    log::error("cannot move an interrupted capture out of the evidence folder",
               {{"folder", temporary.string()}, {"error", ec.message()}});
    return false;
  }
  log::warn("an interrupted capture's temporary folder was moved to quarantine; it was never "
            "sealed and is not evidence",
            {{"from", temporary.string()}, {"to", (target / name).string()}});
  return true;
}

}  // namespace

Recovered recoverInterruptedWrites(const std::string& evidenceDir, CustodyLedger& ledger) {
  Recovered recovered;
  fs::path root(evidenceDir);
  auto recorded = bundlesInLedger(ledger.path());
  forEachSnapshotEntry(root, [&](const std::string& ns, const std::string& pod,
                                 const fs::path& entry) {
    std::string id = entry.filename().string();
    if (id.rfind(kTempPrefix, 0) == 0) {
      if (quarantine(root, ns, pod, entry)) ++recovered.quarantined;
      return;
    }
    std::string bundle = ns + "/" + pod + "/" + id;
    if (!core::names::isDns1123Label(id) || recorded.count(bundle) != 0) return;
    std::string sha;
    uint64_t size = 0;
    if (!fileio::hashFile((entry / kManifestFileName).string(), sha, size).ok()) return;
    if (auto appended = ledger.append(id, bundle, sha, std::chrono::system_clock::now());
        !appended.ok()) {
      log::error("cannot record a sealed bundle in the custody ledger",
                 {{"bundle", bundle}, {"error", appended.error().message}});
      return;
    }
    ++recovered.recorded;
    log::warn("a sealed bundle was missing from the custody ledger (the write was interrupted "
              "after it); recorded now",
              {{"bundle", bundle}, {"manifestSha256", sha}});
  });
  return recovered;
}

}  // namespace podmortem::evidence::recovery
