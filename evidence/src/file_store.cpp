#include "podmortem/evidence/store.h"

#include "podmortem/evidence/dsse.h"

#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <vector>

#include "podmortem/core/file_io.h"
#include "podmortem/evidence/manifest.h"
#include "recovery.h"
#include "podmortem/core/kubernetes_names.h"
#include "podmortem/core/log.h"
#include "podmortem/core/sha256.h"
#include "podmortem/evidence/artifact_path.h"

namespace podmortem::evidence {

namespace fileio = core::fileio;

namespace {
namespace fs = std::filesystem;

std::string prepareEvidenceDir(const std::string& dir) {
  if (dir.empty())
    throw std::runtime_error("evidence.dir is empty");
  std::error_code ec;
  fs::path path(dir);
  if (path.has_parent_path() && path.has_filename()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw std::runtime_error("evidence.dir " + dir + ": cannot create parent: " + ec.message());
    }
  }
  bool created = false;
  if (auto made = fileio::makePrivateDir(dir, true, created); !made.ok())
    throw std::runtime_error("evidence.dir: " + made.error().message);
  struct stat info {};
  if (::stat(dir.c_str(), &info) == 0 && (info.st_mode & 0077) != 0) {
    core::log::warn("evidence.dir is accessible to other users; evidence may hold credentials",
                    {{"dir", dir}});
  }
  return (path / kCustodyLedgerFileName).string();
}

// Everything about the request that can be refused before touching the disk.
std::string validate(const SnapshotContent& content) {
  if (!core::names::isDns1123Label(content.pod.namespaceName)) {
    return "namespace \"" + content.pod.namespaceName + "\" is not a valid DNS-1123 label";
  }
  if (!core::names::isDns1123Subdomain(content.pod.name)) {
    return "pod name \"" + content.pod.name + "\" is not a valid DNS-1123 subdomain";
  }
  if (!core::names::isDns1123Label(content.id)) {
    return "snapshot id \"" + content.id + "\" is not a valid DNS-1123 label";
  }
  std::set<std::string_view> paths;
  for (const Artifact& artifact : content.artifacts) {
    if (!isSafeArtifactPath(artifact.path)) {
      return "artifact path \"" + artifact.path + "\" is not a safe relative path";
    }
    if (artifact.path == kManifestFileName || artifact.path == kSignatureFileName ||
        artifact.path == kAttestationFileName) {
      return "artifact path \"" + artifact.path + "\" is reserved for the manifest";
    }
    if (artifact.path == kAddendaFolder ||
        artifact.path.rfind(std::string(kAddendaFolder) + "/", 0) == 0) {
      return "artifact path \"" + artifact.path + "\" is reserved for addenda";
    }
    if (!paths.insert(artifact.path).second) {
      return "artifact path \"" + artifact.path + "\" is listed twice";
    }
  }
  // "logs" as a file and "logs/app.log" cannot both exist.
  for (std::string_view path : paths) {
    for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
         slash = path.find('/', slash + 1)) {
      if (paths.count(path.substr(0, slash)) != 0) {
        return "artifact path \"" + std::string(path.substr(0, slash)) +
               "\" is both a file and a folder";
      }
    }
  }
  if (!content.extra.is_null() && !content.extra.is_object())
    return "extra must be a JSON object";
  if (content.extra.is_object()) {
    for (const auto& item : content.extra.items()) {
      if (manifest::isReservedKey(item.key())) {
        return "extra key \"" + item.key() + "\" would replace a manifest field";
      }
    }
  }
  return {};
}

// Writes one artifact of the bundle (and the folders its path names). A full volume costs only
// this artifact: its file is removed and the record says why, so that what fitted can still be
// sealed. Any other failure ends the bundle.
core::Status writeArtifact(const Artifact& artifact, const std::string& tempDir,
                           std::vector<std::string>& folders, ArtifactRecord& record,
                           uint64_t& bytesWritten) {
  for (std::size_t slash = artifact.path.find('/'); slash != std::string::npos;
       slash = artifact.path.find('/', slash + 1)) {
    std::string folder = tempDir + "/" + artifact.path.substr(0, slash);
    bool created = false;
    if (auto made = fileio::makePrivateDir(folder, true, created); !made.ok()) return made;
    if (created) folders.push_back(folder);
  }
  std::string file = tempDir + "/" + artifact.path;
  uint64_t before = bytesWritten;
  auto written = fileio::writeNewFile(file, artifact.bytes, bytesWritten);
  if (written.ok()) {
    record.size = artifact.bytes.size();
    record.sha256 = core::sha256Hex(artifact.bytes);
    return {};
  }
  if (written.error().code != core::ErrorCode::kNoSpace) return written;
  ::unlink(file.c_str());
  bytesWritten = before;
  record.error = (record.error.empty() ? "" : record.error + "; ") +
                 "not stored: no space left on the evidence volume";
  return {};
}

// attestation.dsse.json: the in-toto Statement of the manifest and its artifacts, signed.
std::string attestation(std::string_view manifestBytes, const std::vector<ArtifactRecord>& artifacts,
                        const Signer& signer) {
  return formatEnvelope(signEnvelope(std::string(kInTotoPayloadType),
                                     bundleStatement(manifestBytes, artifacts), signer));
}

// Writes the bundle into the temporary folder. Fills `result`'s artifacts, phase, manifest
// digest and byte count as it goes.
core::Status writeBundle(const SnapshotContent& content, const std::string& tempDir,
                        const Signer* signer, WriteResult& result) {
  std::vector<std::string> folders = {tempDir};
  std::string partialReason;
  size_t noSpace = 0;
  for (const Artifact& artifact : content.artifacts) {
    ArtifactRecord record{artifact.path, artifact.collector, {}, artifact.error, 0};
    if (!artifact.error.empty()) {
      if (!partialReason.empty())
        partialReason += "; ";
      partialReason += artifact.path + " (" + artifact.collector + "): " + artifact.error;
    }
    // A failed collector may still have got something (a truncated log): keep what there is.
    if (artifact.error.empty() || !artifact.bytes.empty()) {
      auto written = writeArtifact(artifact, tempDir, folders, record, result.bytesWritten);
      if (!written.ok()) return written;
      if (record.sha256.empty()) ++noSpace;  // it did not fit
    }
    result.artifacts.push_back(std::move(record));
  }
  if (noSpace > 0) {
    result.errorCode = core::ErrorCode::kNoSpace;
    std::string why = "no space left on the evidence volume: " + std::to_string(noSpace) +
                      " artifact" + (noSpace == 1 ? "" : "s") + " not stored";
    partialReason = partialReason.empty() ? why : why + "; " + partialReason;
  }

  SnapshotPhase phase = partialReason.empty() ? SnapshotPhase::kComplete : SnapshotPhase::kPartial;
  std::string manifestBytes = manifest::serialize(
      manifest::build(content, phase, result.artifacts, std::chrono::system_clock::now()));
  auto written = fileio::writeNewFile(tempDir + "/" + std::string(kManifestFileName),
                                      manifestBytes, result.bytesWritten);
  if (!written.ok())
    return written;
  if (signer != nullptr) {
    written = fileio::writeNewFile(tempDir + "/" + std::string(kAttestationFileName),
                                   attestation(manifestBytes, result.artifacts, *signer),
                                   result.bytesWritten);
    if (!written.ok())
      return written;
  }
  for (const std::string& folder : folders) {
    if (auto synced = fileio::syncDir(folder); !synced.ok())
      return synced;
  }
  result.phase = phase;
  result.reason = partialReason.empty() ? ""
                  : noSpace > 0 ? partialReason
                                : "collectors failed: " + partialReason;
  result.manifestSha256 = core::sha256Hex(manifestBytes);
  return {};
}

// <namespace>/ and <namespace>/<pod>/ under the evidence folder. New folder names are only
// durable once their parent is fsync'd.
core::Status makeParents(const std::string& evidenceDir, const std::string& namespaceDir,
                         const std::string& podDir) {
  bool created = false;
  core::Status status = fileio::makePrivateDir(namespaceDir, true, created);
  if (status.ok() && created)
    status = fileio::syncDir(evidenceDir);
  if (status.ok())
    status = fileio::makePrivateDir(podDir, true, created);
  if (status.ok() && created)
    status = fileio::syncDir(namespaceDir);
  return status;
}

WriteResult failed(std::string reason, WriteResult result = {}) {
  result.phase = SnapshotPhase::kFailed;
  result.reason = std::move(reason);
  return result;
}

WriteResult failed(const core::Error& error, WriteResult result = {}) {
  result.errorCode = error.code;
  return failed(error.message, std::move(result));
}
}  // namespace

FileStore::FileStore(std::string evidenceDir, std::unique_ptr<Signer> signer)
    : evidenceDir_(std::move(evidenceDir)),
      signer_(std::move(signer)),
      ledger_(prepareEvidenceDir(evidenceDir_)) {
  auto recovered = recovery::recoverInterruptedWrites(evidenceDir_, ledger_);
  if (recovered.quarantined + recovered.recorded > 0) {
    core::log::warn("recovered from interrupted evidence writes",
                    {{"quarantined", static_cast<uint64_t>(recovered.quarantined)},
                     {"recorded", static_cast<uint64_t>(recovered.recorded)}});
  }
}

WriteResult FileStore::write(const SnapshotContent& content) {
  if (std::string problem = validate(content); !problem.empty()) {
    core::log::warn("evidence snapshot refused", {{"reason", problem}});
    return failed(core::makeError(core::ErrorCode::kInvalidArgument, std::move(problem)));
  }
  const std::string bundle = content.pod.namespaceName + "/" + content.pod.name + "/" + content.id;
  const std::string namespaceDir = evidenceDir_ + "/" + content.pod.namespaceName;
  const std::string podDir = namespaceDir + "/" + content.pod.name;
  const std::string finalDir = podDir + "/" + content.id;
  const std::string tempDir = podDir + "/" + std::string(kTempPrefix) + content.id;

  core::Status status = makeParents(evidenceDir_, namespaceDir, podDir);
  if (!status.ok()) {
    core::log::warn("evidence snapshot failed",
                    {{"snapshotId", content.id}, {"reason", status.error().message}});
    return failed(status.error());
  }
  struct stat existing {};
  if (::lstat(finalDir.c_str(), &existing) == 0) {
    return failed("snapshot folder " + finalDir + " already exists; evidence is never overwritten");
  }
  bool created = false;
  status = fileio::makePrivateDir(tempDir, false, created);
  if (!status.ok()) {
    // Someone else's folder (a concurrent write of the same id, or an interrupted capture that
    // verify should see): not ours to remove.
    return failed(core::makeError(status.error().code,
                                  status.error().message +
                                      " (a capture of this snapshot is in progress or was "
                                      "interrupted)"));
  }

  WriteResult result;
  try {
    status = writeBundle(content, tempDir, signer_.get(), result);
  } catch (const std::exception& e) {
    status = core::makeError(core::ErrorCode::kInternal,
                             std::string("writing ") + tempDir + ": " + e.what());
  }
  if (status.ok())
    status = fileio::renameNoReplace(tempDir, finalDir);
  if (!status.ok()) {
    std::error_code ec;
    fs::remove_all(tempDir, ec);
    if (ec) {
      core::log::warn("cannot remove temporary evidence folder",
                      {{"dir", tempDir}, {"error", ec.message()}});
    }
    core::log::warn("evidence snapshot failed",
                    {{"snapshotId", content.id}, {"reason", status.error().message}});
    result.bytesWritten = 0;
    result.artifacts.clear();
    result.manifestSha256.clear();
    return failed(status.error(), std::move(result));
  }

  // From here on the bundle is in place and is kept whatever happens: deleting evidence to
  // report an error would be worse than the error.
  result.bundlePath = finalDir;
  LedgerEntry appended;
  status = fileio::syncDir(podDir);
  if (status.ok()) {
    status =
        ledger_.append(content.id, bundle, result.manifestSha256, std::chrono::system_clock::now(),
                       &appended, &result.custody);
  }
  if (status.ok() && onSealed_) {
    onSealed_({content.id, finalDir, bundle, result.custody, formatLedgerLine(appended)});
  }
  if (!status.ok()) {
    core::log::error("evidence snapshot stored but not recorded",
                     {{"snapshotId", content.id}, {"bundle", bundle},
                      {"reason", status.error().message}});
    return failed(core::makeError(status.error().code, status.error().message +
                                                           " (the bundle was kept at " + finalDir +
                                                           ")"),
                  std::move(result));
  }
  // The snapshot manager logs the outcome with the capture's context.
  return result;
}

namespace {

// The highest addendum number in `addendaDir` (0 when there is none or no folder yet).
uint64_t lastAddendum(const fs::path& addendaDir) {
  uint64_t last = 0;
  std::error_code ec;
  for (fs::directory_iterator it(addendaDir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    last = std::max<uint64_t>(last, std::stoull(name));
  }
  return last;
}

// Writes the addendum's artifacts, manifest and signature into `tempDir`, fsync'd.
core::Status writeAddendumFiles(const AddendumContent& content, uint64_t sequence,
                                const std::string& parentSha, const std::string& tempDir,
                                const Signer* signer, AddendumRecord& record) {
  std::vector<std::string> folders = {tempDir};
  std::vector<ArtifactRecord> artifacts;
  uint64_t bytes = 0;
  for (const Artifact& artifact : content.artifacts) {
    ArtifactRecord written{artifact.path, artifact.collector, {}, artifact.error, 0};
    if (auto status = writeArtifact(artifact, tempDir, folders, written, bytes); !status.ok()) {
      return status;
    }
    if (written.sha256.empty()) {
      return core::makeError(core::ErrorCode::kNoSpace, "no space left for the addendum");
    }
    artifacts.push_back(std::move(written));
  }
  std::string manifestBytes = manifest::serialize(manifest::buildAddendum(
      content, sequence, parentSha, artifacts, std::chrono::system_clock::now()));
  auto status = fileio::writeNewFile(tempDir + "/" + std::string(kManifestFileName),
                                     manifestBytes, bytes);
  if (status.ok() && signer != nullptr) {
    status = fileio::writeNewFile(tempDir + "/" + std::string(kAttestationFileName),
                                  attestation(manifestBytes, artifacts, *signer), bytes);
  }
  for (const std::string& folder : folders) {
    if (status.ok()) status = fileio::syncDir(folder);
  }
  record.manifestSha256 = core::sha256Hex(manifestBytes);
  return status;
}

}  // namespace

core::Result<AddendumRecord> FileStore::addAddendum(const AddendumContent& content) {
  SnapshotContent probe;
  probe.id = content.snapshotId;
  probe.pod = content.pod;
  probe.artifacts = content.artifacts;
  if (std::string problem = validate(probe); !problem.empty()) {
    return core::makeError(core::ErrorCode::kInvalidArgument, std::move(problem));
  }
  const std::string bundle = content.pod.namespaceName + "/" + content.pod.name + "/" +
                             content.snapshotId;
  const fs::path bundleDir = fs::path(evidenceDir_) / bundle;
  const fs::path addendaDir = bundleDir / kAddendaFolder;

  std::lock_guard lock(addendaMutex_);
  AddendumRecord record;
  record.sequence = lastAddendum(addendaDir) + 1;
  // The manifest this addendum follows: the bundle's, or the addendum before it.
  fs::path parent = record.sequence == 1
                        ? bundleDir / kManifestFileName
                        : addendaDir / std::to_string(record.sequence - 1) / kManifestFileName;
  std::string parentBytes;
  if (auto read = fileio::readFile(parent.string(), parentBytes); !read.ok()) {
    return core::makeError(core::ErrorCode::kNotFound,
                           "no sealed snapshot to add to: " + read.error().message);
  }
  record.parentManifestSha256 = core::sha256Hex(parentBytes);

  bool created = false;
  core::Status status = fileio::makePrivateDir(addendaDir.string(), true, created);
  if (status.ok() && created) status = fileio::syncDir(bundleDir.string());
  if (!status.ok()) return status.error();
  const std::string name = std::to_string(record.sequence);
  const std::string tempDir = (addendaDir / (std::string(kTempPrefix) + name)).string();
  const std::string finalDir = (addendaDir / name).string();
  std::error_code ec;
  if (fs::exists(tempDir, ec)) {
    // Left by a process that died while writing it: never sealed nor recorded.
    core::log::warn("removing an interrupted addendum", {{"dir", tempDir}});
    fs::remove_all(tempDir, ec);
  }
  status = fileio::makePrivateDir(tempDir, false, created);
  if (status.ok()) {
    status = writeAddendumFiles(content, record.sequence, record.parentManifestSha256, tempDir,
                                signer_.get(), record);
  }
  if (status.ok()) status = fileio::renameNoReplace(tempDir, finalDir);
  if (!status.ok()) {
    fs::remove_all(tempDir, ec);
    return status.error();
  }
  record.path = finalDir;
  status = fileio::syncDir(addendaDir.string());
  LedgerEntry appended;
  if (status.ok()) {
    status = ledger_.append(content.snapshotId, bundle + "/" + std::string(kAddendaFolder) + "/" +
                                                    name,
                            record.manifestSha256, std::chrono::system_clock::now(), &appended,
                            &record.custody);
  }
  if (status.ok() && onSealed_) {
    onSealed_({content.snapshotId, finalDir, appended.bundle, record.custody, formatLedgerLine(appended)});
  }
  if (!status.ok()) {
    core::log::error("evidence addendum stored but not recorded",
                     {{"snapshotId", content.snapshotId}, {"addendum", finalDir},
                      {"reason", status.error().message}});
    return status.error();
  }
  return record;
}

}  // namespace podmortem::evidence
