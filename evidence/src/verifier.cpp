#include "podmortem/evidence/verifier.h"

#include "podmortem/evidence/dsse.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "podmortem/core/file_io.h"
#include "podmortem/evidence/manifest.h"
#include "podmortem/core/kubernetes_names.h"
#include "podmortem/core/sha256.h"
#include "podmortem/evidence/artifact_path.h"
#include "podmortem/evidence/custody_ledger.h"
#include "podmortem/evidence/store.h"

namespace podmortem::evidence {

namespace fileio = core::fileio;

namespace {
namespace fs = std::filesystem;

// A snapshot, or one of its addenda, as the ledger names it.
struct BundleName {
  std::string namespaceName;
  std::string pod;
  std::string id;
  uint64_t addendum = 0;  // 0: the snapshot itself
  std::string relative() const {
    std::string bundle = namespaceName + "/" + pod + "/" + id;
    if (addendum > 0) bundle += "/" + std::string(kAddendaFolder) + "/" + std::to_string(addendum);
    return bundle;
  }
};

bool isSequence(const std::string& text) {
  return !text.empty() && text.size() < 10 && text[0] != '0' &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// "<namespace>/<pod>/<id>" or "<namespace>/<pod>/<id>/addenda/<n>".
std::optional<BundleName> splitBundle(const std::string& bundle) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    std::size_t slash = bundle.find('/', start);
    parts.push_back(bundle.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 3 && parts.size() != 5) return std::nullopt;
  BundleName name{parts[0], parts[1], parts[2]};
  if (parts.size() == 5) {
    if (parts[3] != kAddendaFolder || !isSequence(parts[4])) return std::nullopt;
    name.addendum = std::stoull(parts[4]);
  }
  if (!core::names::isDns1123Label(name.namespaceName) || !core::names::isDns1123Subdomain(name.pod) ||
      !core::names::isDns1123Label(name.id)) {
    return std::nullopt;
  }
  return name;
}

fs::file_type typeOf(const fs::path& path) {
  std::error_code ec;
  return fs::symlink_status(path, ec).type();
}

class Checker {
 public:
  Checker(const SignatureVerifier* verifier, VerifyReport& report)
      : verifier_(verifier), report_(report) {}

  void problem(const fs::path& path, std::string message) {
    report_.problems.push_back({path.string(), std::move(message)});
  }

  // Reads and checks the chain; fills entries_ (by bundle) for the cross-checks.
  void checkLedger(const fs::path& file) {
    ledgerPresent_ = true;
    std::string contents;
    if (auto read = fileio::readFile(file.string(), contents); !read.ok()) {
      problem(file, read.error().message);
      return;
    }
    std::string expectedPrev(kGenesisPrevSha256);
    uint64_t lastSeq = 0;
    std::size_t lineNumber = 0;
    std::string_view rest(contents);
    while (!rest.empty()) {
      ++lineNumber;
      fs::path where = file.string() + ":" + std::to_string(lineNumber);
      std::size_t newline = rest.find('\n');
      if (newline == std::string_view::npos) {
        problem(where, "last line is incomplete (an append was interrupted)");
        break;
      }
      std::string_view line = rest.substr(0, newline);
      rest.remove_prefix(newline + 1);
      std::string lineSha = core::sha256Hex(line);
      if (lineNumber == 1) report_.ledgerFirstLineSha256 = lineSha;
      LedgerEntry entry;
      if (!parseLedgerLine(line, entry)) {
        problem(where, "line is not a ledger entry (edited, or torn by a crash)");
        expectedPrev = lineSha;
        report_.ledgerHeadSha256 = lineSha;
        continue;
      }
      ++report_.ledgerEntries;
      report_.ledgerLineSha256.emplace(entry.seq, lineSha);
      if (entry.seq != lastSeq + 1) {
        problem(where, "seq " + std::to_string(entry.seq) + " where " +
                           std::to_string(lastSeq + 1) +
                           " was expected: a line was removed, inserted or reordered");
      }
      if (entry.prevSha256 != expectedPrev) {
        problem(where,
                "prevSha256 does not match the line before it: a line was edited, removed or "
                "reordered");
      }
      lastSeq = entry.seq;
      expectedPrev = lineSha;
      report_.ledgerHeadSha256 = lineSha;
      std::optional<BundleName> name = splitBundle(entry.bundle);
      if (!name || name->id != entry.snapshotId) {
        problem(where, "bundle \"" + entry.bundle + "\" is not <namespace>/<pod>/" +
                           entry.snapshotId + "[/addenda/<n>]");
        continue;
      }
      if (!entries_.emplace(entry.bundle, std::make_pair(entry, false)).second) {
        problem(where, "bundle " + entry.bundle + " is listed twice");
      }
    }
  }

  // Compares a bundle on disk with what the ledger says about it.
  void crossCheck(const fs::path& dir, const BundleName& name, const std::string& manifestSha) {
    if (!ledgerPresent_)
      return;
    auto it = entries_.find(name.relative());
    if (it == entries_.end()) {
      problem(dir, name.addendum > 0 ? "addendum folder is not listed in the custody ledger"
                                     : "snapshot folder is not listed in the custody ledger");
      return;
    }
    it->second.second = true;
    const LedgerEntry& entry = it->second.first;
    if (!manifestSha.empty() && manifestSha != entry.manifestSha256) {
      problem(dir / kManifestFileName,
              "manifest.json changed after it was recorded: sha256 " + manifestSha +
                  ", ledger seq " + std::to_string(entry.seq) + " says " + entry.manifestSha256);
    }
  }

  void reportMissingFolders(const fs::path& evidenceDir) {
    for (const auto& [bundle, value] : entries_) {
      if (!value.second) {
        problem(evidenceDir / bundle, "listed in the custody ledger (seq " +
                                          std::to_string(value.first.seq) +
                                          ") but its folder is missing");
      }
    }
  }

  // Sorted names in a folder, so that reports come out the same way every time.
  std::vector<std::string> listFolder(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec)
      problem(dir, "cannot list folder: " + ec.message());
    std::sort(names.begin(), names.end());
    return names;
  }

  // Checks one snapshot folder; returns manifest.json's SHA-256 ("" when unreadable).
  std::string checkBundle(const fs::path& dir, const std::optional<BundleName>& expected) {
    ++report_.snapshotsChecked;
    fs::path manifestPath = dir / kManifestFileName;
    if (typeOf(manifestPath) != fs::file_type::regular) {
      problem(manifestPath, "manifest.json is missing (or not a regular file)");
      return {};
    }
    std::string manifestBytes;
    if (auto read = fileio::readFile(manifestPath.string(), manifestBytes); !read.ok()) {
      problem(manifestPath, read.error().message);
      return {};
    }
    std::string manifestSha = core::sha256Hex(manifestBytes);
    checkSignature(dir, manifestBytes);

    auto read = manifest::parse(manifestBytes);
    if (!read.ok()) {
      problem(manifestPath, read.error().message);
      return manifestSha;
    }
    const manifest::Parsed& parsed = *read;
    if (expected &&
        (parsed.snapshotId != expected->id || parsed.namespaceName != expected->namespaceName ||
         parsed.podName != expected->pod)) {
      problem(manifestPath, "manifest.json describes " + parsed.namespaceName + "/" +
                                parsed.podName + "/" + parsed.snapshotId +
                                ", not the folder it is in");
    }

    std::set<std::string> files = listFiles(dir);
    // Addenda are checked on their own, against the manifest they follow.
    for (auto it = files.begin(); it != files.end();) {
      it = it->rfind(std::string(kAddendaFolder) + "/", 0) == 0 ? files.erase(it) : std::next(it);
    }
    checkArtifacts(dir, manifestPath, parsed.artifacts, files);
    checkAddenda(dir,
                 expected ? *expected
                          : BundleName{parsed.namespaceName, parsed.podName, parsed.snapshotId},
                 manifestSha);
    return manifestSha;
  }

  // Each artifact a manifest lists against its file; then the files it does not list.
  void checkArtifacts(const fs::path& dir, const fs::path& manifestPath,
                      const std::vector<ArtifactRecord>& artifacts, std::set<std::string>& files) {
    const Uploaded uploaded = readUploaded(dir, files);
    std::size_t inStore = 0;
    for (const ArtifactRecord& artifact : artifacts) {
      ++report_.artifactsChecked;
      if (!isSafeArtifactPath(artifact.path)) {
        problem(manifestPath,
                "artifact path \"" + artifact.path + "\" is not a safe relative path");
        continue;
      }
      fs::path file = dir / artifact.path;
      bool present = files.erase(artifact.path) != 0;
      if (artifact.sha256.empty()) {
        if (present)
          problem(file, "file present, but the manifest records no stored file");
        report_.notCaptured.push_back({file.string(), artifact.error.empty()
                                                          ? "not stored"
                                                          : artifact.error});
        continue;
      }
      if (!present) {
        auto removed = uploaded.removed.find(artifact.path);
        if (removed == uploaded.removed.end()) {
          problem(file, "artifact listed in manifest.json is missing");
        } else if (removed->second != artifact.sha256) {
          problem(dir / kUploadedFileName, "says " + artifact.path + " went to the store with sha256 " +
                                               removed->second + ", manifest.json says " + artifact.sha256);
        } else {
          ++inStore;
        }
        continue;
      }
      std::string sha;
      uint64_t size = 0;
      if (auto hashed = fileio::hashFile(file.string(), sha, size); !hashed.ok()) {
        problem(file, hashed.error().message);
      } else if (size != artifact.size) {
        problem(file, "size " + std::to_string(size) + " bytes, manifest.json says " +
                          std::to_string(artifact.size) + ": the artifact changed");
      } else if (sha != artifact.sha256) {
        problem(file, "sha256 " + sha + ", manifest.json says " + artifact.sha256 +
                          ": the artifact changed");
      }
    }
    files.erase(std::string(kManifestFileName));
    files.erase(std::string(kSignatureFileName));
    files.erase(std::string(kAttestationFileName));
    for (const std::string& extra : files) {
      problem(dir / extra, "file is not listed in manifest.json");
    }
    if (inStore > 0) {
      report_.artifactsInStore += inStore;
      report_.notes.push_back(dir.string() + ": " + std::to_string(inStore) +
                              " artifact(s) left the volume once uploaded (evidence.s3.keepLocal: false); "
                              "podmortem verify --config CONFIG " + uploaded.location + " checks them in the store");
    }
  }

  // uploaded.json (evidence.s3.keepLocal: false): the artifacts removed from `dir` once they were
  // in the store, by path with their SHA-256. Taken out of `files`; a malformed one is a problem.
  struct Uploaded {
    std::string location;
    std::map<std::string, std::string> removed;
  };
  Uploaded readUploaded(const fs::path& dir, std::set<std::string>& files) {
    Uploaded uploaded;
    if (files.erase(std::string(kUploadedFileName)) == 0) return uploaded;
    fs::path path = dir / kUploadedFileName;
    std::string text;
    if (auto read = fileio::readFile(path.string(), text); !read.ok()) {
      problem(path, read.error().message);
      return uploaded;
    }
    nlohmann::json record = nlohmann::json::parse(text, nullptr, false);
    if (!record.is_object() || !record["location"].is_string() || !record["removed"].is_object()) {
      problem(path, "not an upload record: location (string) and removed (object) are required");
      return uploaded;
    }
    uploaded.location = record["location"].get<std::string>();
    for (auto& [name, file] : record["removed"].items()) {
      if (file.is_object() && file["sha256"].is_string()) uploaded.removed[name] = file["sha256"].get<std::string>();
    }
    return uploaded;
  }

  // <bundle>/addenda/1, 2, ...: each sealed like a bundle, naming the manifest before it, and
  // recorded in the ledger.
  void checkAddenda(const fs::path& bundleDir, const BundleName& bundle, std::string parentSha) {
    fs::path addendaDir = bundleDir / kAddendaFolder;
    fs::file_type type = typeOf(addendaDir);
    if (type == fs::file_type::not_found) return;
    if (type != fs::file_type::directory) {
      problem(addendaDir, "addenda is not a folder");
      return;
    }
    std::vector<uint64_t> sequences;
    for (const std::string& entry : listFolder(addendaDir)) {
      if (!isSequence(entry) || typeOf(addendaDir / entry) != fs::file_type::directory) {
        problem(addendaDir / entry, entry.rfind(kTempPrefix, 0) == 0
                                        ? "temporary addendum folder: an addendum was interrupted"
                                        : "unexpected entry: not an addendum folder");
        continue;
      }
      sequences.push_back(std::stoull(entry));
    }
    std::sort(sequences.begin(), sequences.end());
    for (std::size_t i = 0; i < sequences.size(); ++i) {
      if (sequences[i] != i + 1) {
        problem(addendaDir / std::to_string(sequences[i]),
                "addendum " + std::to_string(i + 1) + " is missing before it");
        return;
      }
      BundleName name = bundle;
      name.addendum = sequences[i];
      parentSha = checkAddendum(addendaDir / std::to_string(sequences[i]), name, parentSha);
      if (parentSha.empty()) return;  // the chain cannot be followed past an unreadable one
    }
  }

  // One addendum; returns its manifest's SHA-256 ("" when unreadable).
  std::string checkAddendum(const fs::path& dir, const BundleName& name,
                            const std::string& parentSha) {
    ++report_.addendaChecked;
    fs::path manifestPath = dir / kManifestFileName;
    std::string manifestBytes;
    if (typeOf(manifestPath) != fs::file_type::regular) {
      problem(manifestPath, "manifest.json is missing (or not a regular file)");
      return {};
    }
    if (auto read = fileio::readFile(manifestPath.string(), manifestBytes); !read.ok()) {
      problem(manifestPath, read.error().message);
      return {};
    }
    std::string manifestSha = core::sha256Hex(manifestBytes);
    checkSignature(dir, manifestBytes);
    auto read = manifest::parseAddendum(manifestBytes);
    if (!read.ok()) {
      problem(manifestPath, read.error().message);
      return manifestSha;
    }
    const manifest::ParsedAddendum& parsed = *read;
    if (parsed.content.snapshotId != name.id || parsed.content.namespaceName != name.namespaceName ||
        parsed.content.podName != name.pod || parsed.sequence != name.addendum) {
      problem(manifestPath, "the addendum's manifest describes another snapshot or place");
    }
    if (parsed.parentManifestSha256 != parentSha) {
      problem(manifestPath, "parentManifestSha256 " + parsed.parentManifestSha256 +
                                " is not the manifest before it (" + parentSha +
                                "): the chain was broken");
    }
    std::set<std::string> files = listFiles(dir);
    checkArtifacts(dir, manifestPath, parsed.content.artifacts, files);
    crossCheck(dir, name, manifestSha);
    return manifestSha;
  }

  void finish() {
    if (unsignedChecks_ > 0) {
      report_.notes.push_back(std::to_string(unsignedChecks_) +
                              " signature(s) present but not checked: no verification key given");
    }
  }

 private:
  // attestation.dsse.json (this version's bundles) or manifest.json.sig (earlier ones).
  void checkSignature(const fs::path& dir, const std::string& manifestBytes) {
    fs::path attestationPath = dir / kAttestationFileName;
    if (typeOf(attestationPath) != fs::file_type::not_found) {
      checkAttestation(attestationPath, manifestBytes);
      return;
    }
    fs::path sigPath = dir / kSignatureFileName;
    fs::file_type type = typeOf(sigPath);
    if (type == fs::file_type::not_found) {
      if (verifier_ != nullptr)
        problem(attestationPath, "the bundle is not signed (no attestation.dsse.json)");
      return;
    }
    if (verifier_ == nullptr) {
      ++unsignedChecks_;
      return;
    }
    ++report_.signaturesChecked;
    std::string text;
    std::string error = "not a regular file";
    if (type == fs::file_type::regular) {
      auto read = fileio::readFile(sigPath.string(), text);
      error = read.ok() ? "" : read.error().message;
    }
    SignatureFile signature;
    if (error.empty())
      parseSignatureFile(text, signature, error);
    if (!error.empty()) {
      problem(sigPath, error);
    } else if (signature.algorithm != verifier_->algorithm()) {
      problem(sigPath, "signed with " + signature.algorithm + ", but the key given is " +
                           verifier_->algorithm());
    } else if (!verifier_->verify(manifestBytes, signature.signature)) {
      problem(sigPath, "signature does not verify: manifest.json changed or another key signed it");
    }
  }

  // The DSSE envelope: an in-toto Statement whose subjects are exactly manifest.json and the
  // artifacts it lists as stored, with their SHA-256 (the artifacts themselves are checked against
  // the manifest), signed by the key given.
  void checkAttestation(const fs::path& path, const std::string& manifestBytes) {
    std::string text;
    if (typeOf(path) != fs::file_type::regular) {
      problem(path, "not a regular file");
      return;
    }
    if (auto read = fileio::readFile(path.string(), text); !read.ok()) {
      problem(path, read.error().message);
      return;
    }
    auto envelope = parseEnvelope(text);
    if (!envelope.ok()) {
      problem(path, envelope.error().message);
      return;
    }
    if (envelope->payloadType != kInTotoPayloadType) {
      problem(path, "payloadType is " + envelope->payloadType + ", not " + std::string(kInTotoPayloadType));
      return;
    }
    nlohmann::json statement = nlohmann::json::parse(envelope->payload, nullptr, false);
    if (!statement.is_object() || statement.value("_type", "") != kInTotoStatementType ||
        statement.value("predicateType", "") != kEvidencePredicateType ||
        !statement["subject"].is_array()) {
      problem(path, "the payload is not a podmortem in-toto Statement v1");
      return;
    }
    std::map<std::string, std::string> expected = {{std::string(kManifestFileName), core::sha256Hex(manifestBytes)}};
    nlohmann::json manifest = nlohmann::json::parse(manifestBytes, nullptr, false);
    if (manifest.is_object() && manifest["artifacts"].is_array()) {
      for (auto artifact : manifest["artifacts"]) {  // copies: [] of a const json asserts when a key is missing
        if (artifact.is_object() && artifact["path"].is_string() && artifact["sha256"].is_string() &&
            !artifact["sha256"].get<std::string>().empty()) {
          expected[artifact["path"].get<std::string>()] = artifact["sha256"].get<std::string>();
        }
      }
    }
    std::map<std::string, std::string> subjects;
    for (auto subject : statement["subject"]) {
      if (!subject.is_object() || !subject["name"].is_string() || !subject["digest"].is_object() ||
          !subject["digest"]["sha256"].is_string()) {
        problem(path, "a subject without a name and a sha256 digest");
        return;
      }
      subjects[subject["name"].get<std::string>()] = subject["digest"]["sha256"].get<std::string>();
    }
    if (subjects[std::string(kManifestFileName)] != expected[std::string(kManifestFileName)]) {
      problem(path, "the attested manifest.json digest is not the manifest's: manifest.json changed after it was signed");
    } else if (subjects != expected) {
      problem(path, "the attested subjects are not the artifacts manifest.json lists");
    }
    if (verifier_ == nullptr) {
      ++unsignedChecks_;
      return;
    }
    ++report_.signaturesChecked;
    if (envelope->signatures.empty()) {
      problem(path, "the envelope has no signature");
    } else if (!verifyEnvelope(*envelope, *verifier_)) {
      problem(path, "no signature verifies with the key given (keyid " + verifier_->keyId() +
                        "): the attestation changed or another key signed it");
    }
  }

  // Regular files under `dir`, relative and '/'-separated. Symlinks are reported, not followed.
  std::set<std::string> listFiles(const fs::path& dir) {
    std::set<std::string> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      fs::file_type type = it->symlink_status(ec).type();
      if (ec)
        break;
      std::string relative = it->path().lexically_relative(dir).generic_string();
      if (type == fs::file_type::regular) {
        files.insert(relative);
      } else if (type == fs::file_type::symlink) {
        problem(it->path(), "symlink inside a bundle (not followed)");
      } else if (type != fs::file_type::directory) {
        problem(it->path(), "special file inside a bundle");
      }
    }
    if (ec)
      problem(dir, "cannot list bundle: " + ec.message());
    return files;
  }

  const SignatureVerifier* verifier_;
  VerifyReport& report_;
  bool ledgerPresent_ = false;
  std::map<std::string, std::pair<LedgerEntry, bool>> entries_;  // bundle -> (entry, seen)
  std::size_t unsignedChecks_ = 0;
};

void verifySnapshotFolder(const fs::path& dir, Checker& checker, VerifyReport& report) {
  // <evidence.dir>/<namespace>/<pod>/<id>: the ledger, if this bundle is still in its place, is
  // three folders up.
  fs::path absolute = fs::absolute(dir).lexically_normal();
  if (absolute.filename().empty())
    absolute = absolute.parent_path();
  BundleName name{absolute.parent_path().parent_path().filename().string(),
                  absolute.parent_path().filename().string(), absolute.filename().string()};
  fs::path ledger = absolute.parent_path().parent_path().parent_path() / kCustodyLedgerFileName;
  bool inPlace = typeOf(ledger) == fs::file_type::regular && core::names::isDns1123Label(name.namespaceName) &&
                 core::names::isDns1123Subdomain(name.pod) && core::names::isDns1123Label(name.id);
  if (!inPlace) {
    std::string sha = checker.checkBundle(dir, std::nullopt);
    report.notes.push_back("no custody ledger three folders up; manifest.json (sha256 " + sha +
                           ") was not compared with a ledger entry");
    return;
  }
  checker.checkLedger(ledger);
  std::string sha = checker.checkBundle(dir, name);
  checker.crossCheck(dir, name, sha);
}

void verifyEvidenceFolder(const fs::path& root, Checker& checker, VerifyReport& report) {
  fs::path ledger = root / kCustodyLedgerFileName;
  fs::file_type ledgerType = typeOf(ledger);
  bool hasLedger = ledgerType == fs::file_type::regular;
  if (hasLedger) {
    checker.checkLedger(ledger);
  } else if (ledgerType != fs::file_type::not_found) {
    checker.problem(ledger, "custody ledger is not a regular file");
  }

  for (const std::string& ns : checker.listFolder(root)) {
    fs::path nsDir = root / ns;
    if (ns == kCustodyLedgerFileName)
      continue;
    if (ns == ".quarantine" && typeOf(nsDir) == fs::file_type::directory) {
      // Interrupted captures podmortem moved aside at start-up: never sealed, not evidence.
      report.notes.push_back(".quarantine holds the temporary folders of interrupted captures "
                             "(never sealed; not checked)");
      continue;
    }
    if ((ns == ".outbox" || ns == ".uploads") && typeOf(nsDir) == fs::file_type::directory) {
      // podmortem's own queues (findings for the SOC, uploads to S3): copies, not evidence.
      continue;
    }
    fs::file_type nsType = typeOf(nsDir);
    if (nsType == fs::file_type::symlink) {
      checker.problem(nsDir, "symlink in the evidence folder (not followed)");
      continue;
    }
    if (nsType != fs::file_type::directory || !core::names::isDns1123Label(ns)) {
      checker.problem(nsDir, "unexpected entry: not a namespace folder");
      continue;
    }
    for (const std::string& pod : checker.listFolder(nsDir)) {
      fs::path podDir = nsDir / pod;
      fs::file_type podType = typeOf(podDir);
      if (podType == fs::file_type::symlink) {
        checker.problem(podDir, "symlink in the evidence folder (not followed)");
        continue;
      }
      if (podType != fs::file_type::directory || !core::names::isDns1123Subdomain(pod)) {
        checker.problem(podDir, "unexpected entry: not a pod folder");
        continue;
      }
      for (const std::string& id : checker.listFolder(podDir)) {
        fs::path snapshotDir = podDir / id;
        fs::file_type type = typeOf(snapshotDir);
        if (type == fs::file_type::symlink) {
          checker.problem(snapshotDir, "symlink in the evidence folder (not followed)");
        } else if (id.rfind(kTempPrefix, 0) == 0) {
          checker.problem(snapshotDir,
                          "temporary folder: a capture was interrupted (or is still running)");
        } else if (type != fs::file_type::directory || !core::names::isDns1123Label(id)) {
          checker.problem(snapshotDir, "unexpected entry: not a snapshot folder");
        } else {
          BundleName name{ns, pod, id};
          std::string sha = checker.checkBundle(snapshotDir, name);
          if (hasLedger)
            checker.crossCheck(snapshotDir, name, sha);
        }
      }
    }
  }
  if (hasLedger) {
    checker.reportMissingFolders(root);
  } else if (report.snapshotsChecked > 0) {
    checker.problem(ledger, "custody ledger is missing; no snapshot can be checked against it");
  } else if (report.problems.empty()) {
    checker.problem(root,
                    "neither a snapshot folder (manifest.json) nor an evidence folder "
                    "(custody.jsonl)");
  }
}
}  // namespace

VerifyReport verifyEvidence(const std::string& path, const SignatureVerifier* verifier) {
  VerifyReport report;
  Checker checker(verifier, report);
  try {
    fs::path root(path);
    fs::file_type type = typeOf(root);
    if (type != fs::file_type::directory) {
      checker.problem(root,
                      type == fs::file_type::not_found ? "does not exist" : "is not a folder");
    } else if (typeOf(root / kManifestFileName) != fs::file_type::not_found) {
      verifySnapshotFolder(root, checker, report);
    } else {
      verifyEvidenceFolder(root, checker, report);
    }
  } catch (const std::exception& e) {
    // Out of memory or a file system oddity: say so rather than claim the evidence is fine.
    checker.problem(path, std::string("verification stopped: ") + e.what());
  }
  checker.finish();
  return report;
}

void checkAnchors(const std::vector<LedgerAnchorRecord>& anchors, const std::string& ledgerPath,
                  VerifyReport& report) {
  auto problem = [&](const std::string& where, const std::string& message) {
    report.problems.push_back({where, message});
  };
  uint64_t lastSeq = report.ledgerLineSha256.empty() ? 0 : report.ledgerLineSha256.rbegin()->first;
  size_t otherLedger = 0;
  for (const auto& record : anchors) {
    ++report.anchorsChecked;
    const LedgerAnchor& anchor = record.anchor;
    if (anchor.ledgerId != report.ledgerFirstLineSha256) {
      ++otherLedger;
      continue;
    }
    auto line = report.ledgerLineSha256.find(anchor.seq);
    std::string where = ledgerPath + ":" + std::to_string(anchor.seq);
    if (line == report.ledgerLineSha256.end()) {
      problem(where, anchor.seq > lastSeq
                         ? "missing: " + record.where + " anchors line " + std::to_string(anchor.seq) +
                               " but the ledger ends at line " + std::to_string(lastSeq) +
                               ": the ledger was truncated"
                         : "missing: " + record.where + " anchors this line: a line was removed");
    } else if (line->second != anchor.entrySha256) {
      problem(where, "differs from its anchor in " + record.where + " (sha256 " + anchor.entrySha256 +
                         "): the line was rewritten");
    }
  }
  if (otherLedger > 0 && report.ledgerFirstLineSha256.empty()) {
    problem(ledgerPath, "the ledger has no line, but " + std::to_string(otherLedger) +
                            " are anchored in the cluster: it was emptied or the volume replaced");
  } else if (otherLedger > 0) {
    problem(ledgerPath, std::to_string(otherLedger) + " line(s) anchored in the cluster belong to a ledger whose "
                            "first line is not this one's: the volume was replaced or the ledger rewritten from "
                            "its start");
  }
}

}  // namespace podmortem::evidence
