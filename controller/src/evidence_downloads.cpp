#include "podmortem/controller/evidence_downloads.h"

#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>

#include "podmortem/core/file_io.h"
#include "podmortem/core/json_path.h"
#include "podmortem/core/log.h"
#include "podmortem/core/sha256.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/evidence/bundle_archive.h"
#include "podmortem/evidence/dsse.h"
#include "podmortem/evidence/manifest.h"
#include "podmortem/evidence/store.h"

namespace podmortem::controller {

namespace fs = std::filesystem;
namespace log = core::log;
using nlohmann::json;
constexpr auto& at = core::jsonAt;
constexpr auto& text = core::jsonText;
using Clock = std::chrono::system_clock;

namespace {

constexpr const char* kGroupPath = "/apis/podmortem.io/v1alpha1/namespaces/";
// Nobody answered (no replica holds the bundle and none is its recorded replica): gone after this.
constexpr auto kUnansweredLifetime = std::chrono::minutes(10);

std::optional<Clock::time_point> timeOf(const json& value) {
  auto micros = core::parseTimestampMicros(text(value));
  if (!micros) return std::nullopt;
  return Clock::time_point(std::chrono::microseconds(*micros));
}

std::string newToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a download token");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char byte : bytes) {
    token += kHex[byte >> 4];
    token += kHex[byte & 15];
  }
  return token;
}

bool isSnapshotId(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

json errorBody(const std::string& message) { return {{"error", message}}; }

}  // namespace

EvidenceDownloads::EvidenceDownloads(kube::Client& client, Options options, ClusterMetrics& metrics,
                                     kube::Metrics* kubeMetrics)
    : client_(client),
      options_(std::move(options)),
      metrics_(metrics),
      worker_("evidence downloads", std::chrono::seconds(30), [this](std::stop_token) { reconcile(); }) {
  kube::Informer::Options informer;
  informer.path = kGroupPath + options_.namespaceName + "/evidencedownloads";
  informer.resource = "evidencedownloads";
  informer_ = std::make_unique<kube::Informer>(
      client_, informer,
      [this](const std::vector<json>& objects) {
        {
          std::lock_guard lock(mutex_);
          objects_ = objects;
        }
        worker_.wake();
      },
      kubeMetrics);
}

EvidenceDownloads::~EvidenceDownloads() { stop(); }

void EvidenceDownloads::start() {
  worker_.start();
  informer_->start();
}

void EvidenceDownloads::stop() {
  informer_->stop();
  worker_.stop();
}

void EvidenceDownloads::reconcile() {
  std::vector<json> objects;
  {
    std::lock_guard lock(mutex_);
    objects = objects_;
    // Forget the answers whose objects are gone (the plugin deletes its own when done).
    std::set<std::string> listed;
    for (const json& object : objects) listed.insert(text(at(object, {"metadata", "uid"})));
    for (auto it = answered_.begin(); it != answered_.end();) {
      it = listed.count(*it) == 0 ? answered_.erase(it) : std::next(it);
    }
    for (auto it = grants_.begin(); it != grants_.end();) {
      it = it->second.expires < Clock::now() ? grants_.erase(it) : std::next(it);
    }
  }
  const auto now = Clock::now();
  for (const json& download : objects) {
    std::string phase = text(at(download, {"status", "phase"}));
    if (phase.empty()) {
      auto created = timeOf(at(download, {"metadata", "creationTimestamp"}));
      if (created && now - *created > kUnansweredLifetime) {
        remove(download, "nobody could answer it");
      } else {
        answer(download);
      }
      continue;
    }
    auto expires = timeOf(at(download, {"status", "expiresAt"}));
    if (!expires || now > *expires + options_.expiredGrace) remove(download, "expired");
  }
}

void EvidenceDownloads::answer(const json& download) {
  const std::string uid = text(at(download, {"metadata", "uid"}));
  {
    std::lock_guard lock(mutex_);
    if (answered_.count(uid) != 0) return;  // answered; the informer has not seen the status yet
  }
  const std::string name = text(at(download, {"metadata", "name"}));
  const std::string id = text(at(download, {"spec", "snapshot"}));
  auto fail = [&](const std::string& message) {
    // Kept, like an answer, until it expires: its creator must be able to read why.
    json status = {{"phase", "Failed"},
                   {"message", message},
                   {"replica", options_.replica},
                   {"expiresAt", core::formatTimestamp(Clock::now() + options_.tokenTtl)}};
    if (patchStatus(download, status)) {
      metrics_.downloads.Add({{"result", "failed"}}).Increment();
      log::warn("evidence download refused", {{"download", name}, {"snapshot", id}, {"reason", message}});
    }
  };
  if (!isSnapshotId(id)) return fail("spec.snapshot is not a snapshot id");
  kube::Request get;
  get.path = kGroupPath + options_.namespaceName + "/evidencesnapshots/" + id;
  get.resource = "evidencesnapshots";
  auto found = client_.send(get);
  if (found.status == 404) return fail("no EvidenceSnapshot " + id + " in " + options_.namespaceName);
  if (!found.ok()) {
    log::warn("evidence download: the EvidenceSnapshot could not be read; trying again",
              {{"download", name}, {"error", found.describe()}});
    return;
  }
  json snapshot = json::parse(found.body, nullptr, false);
  const std::string holder = text(at(snapshot, {"spec", "replica"}));
  const std::string bundle = localBundle(snapshot);
  const auto expires = Clock::now() + options_.tokenTtl;
  json status = {{"phase", "Ready"},
                 {"replica", options_.replica},
                 {"expiresAt", core::formatTimestamp(expires)}};
  json manifestSha = at(snapshot, {"status", "bundle", "manifestSHA256"});
  if (manifestSha.is_string()) status["manifestSHA256"] = manifestSha;
  if (bundle.empty()) {
    // Not on this volume. In S3, any replica that can sign URLs answers (the one that recorded it
    // may be gone): the manifest, the attestation if the bundle was signed, the stored artifacts.
    const std::string location = text(at(snapshot, {"status", "bundle", "location"}));
    if (location.rfind("s3://", 0) == 0 && options_.presign) {
      std::vector<std::string> paths = {std::string(evidence::kManifestFileName)};
      json artifacts = at(snapshot, {"status", "artifacts"});
      for (const json& artifact : artifacts.is_array() ? artifacts : json::array()) {
        if (!text(at(artifact, {"sha256"})).empty()) paths.push_back(text(at(artifact, {"path"})));
      }
      return answerFromS3(download, status, location, paths, {std::string(evidence::kAttestationFileName)});
    }
    // Another replica's volume holds it; only the replica that recorded it says it is gone.
    if (holder.empty() || holder == options_.replica) {
      fail("the bundle of " + id + " is not on the volume of " + options_.replica + " (removed?)");
    }
    return;
  }

  // Artifacts that left the volume for S3 (evidence.s3.keepLocal: false): pre-signed URLs.
  std::string uploaded;
  if (core::fileio::readFile((fs::path(bundle) / evidence::kUploadedFileName).string(), uploaded).ok()) {
    json record = json::parse(uploaded, nullptr, false);
    if (!record.is_object() || !record["location"].is_string()) return fail("uploaded.json of the bundle is unreadable");
    std::vector<std::string> paths;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(bundle, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string path = it->path().lexically_relative(bundle).generic_string();
      if (path != evidence::kUploadedFileName && path.rfind(std::string(evidence::kAddendaFolder) + "/", 0) != 0) {
        paths.push_back(path);
      }
    }
    if (record["removed"].is_object()) {
      for (const auto& [path, unused] : record["removed"].items()) paths.push_back(path);
    }
    return answerFromS3(download, status, record["location"].get<std::string>(), paths, {});
  }

  const std::string token = newToken();
  const std::string path = "/evidence/" + id;
  status["path"] = path;
  status["downloadPort"] = downloadPort_.load();
  status["proxyPath"] = "/api/v1/namespaces/" + options_.namespaceName + "/pods/https:" + options_.replica + ":" +
                        std::to_string(downloadPort_.load()) + "/proxy" + path;
  status["token"] = token;
  {
    // Granted before the status says so: a client may use the token at once.
    std::lock_guard lock(mutex_);
    grants_[core::sha256Hex(token)] = Grant{id, bundle, name, expires};
  }
  if (patchStatus(download, status)) {
    metrics_.downloads.Add({{"result", "issued"}}).Increment();
    log::info("evidence download ready", {{"download", name}, {"snapshot", id}, {"expiresAt", text(status["expiresAt"])}});
  } else {
    std::lock_guard lock(mutex_);
    grants_.erase(core::sha256Hex(token));
  }
}

void EvidenceDownloads::answerFromS3(const json& download, json status, const std::string& url,
                                     const std::vector<std::string>& paths, const std::vector<std::string>& optional) {
  const std::string name = text(at(download, {"metadata", "name"}));
  const std::string id = text(at(download, {"spec", "snapshot"}));
  if (!options_.presign) {
    status = {{"phase", "Failed"},
              {"message", "the bundle's artifacts are in S3 and this replica has no S3 store to sign URLs for"},
              {"replica", options_.replica},
              {"expiresAt", status["expiresAt"]}};
    if (patchStatus(download, status)) metrics_.downloads.Add({{"result", "failed"}}).Increment();
    return;
  }
  std::vector<std::string> all = paths;
  all.insert(all.end(), optional.begin(), optional.end());
  auto urls = options_.presign(url, all, std::chrono::duration_cast<std::chrono::seconds>(options_.tokenTtl));
  if (!urls.ok()) {
    status = {{"phase", "Failed"},
              {"message", "pre-signing the S3 URLs: " + urls.error().message},
              {"replica", options_.replica},
              {"expiresAt", status["expiresAt"]}};
    if (patchStatus(download, status)) metrics_.downloads.Add({{"result", "failed"}}).Increment();
    return;
  }
  json objects = json::array();
  for (const auto& [path, signedUrl] : *urls) {
    json object = {{"path", path}, {"url", signedUrl}};
    // Fetched if it is there (an unsigned bundle has no attestation).
    if (std::find(optional.begin(), optional.end(), path) != optional.end()) object["optional"] = true;
    objects.push_back(std::move(object));
  }
  status["objects"] = objects;
  if (patchStatus(download, status)) {
    metrics_.downloads.Add({{"result", "presigned"}}).Increment();
    log::info("evidence download ready (pre-signed S3 URLs)", {{"download", name}, {"snapshot", id}});
  }
}

std::string EvidenceDownloads::localBundle(const json& snapshot) const {
  const std::string id = text(at(snapshot, {"metadata", "name"}));
  const std::string ns = text(at(snapshot, {"spec", "pod", "namespace"}));
  const std::string pod = text(at(snapshot, {"spec", "pod", "name"}));
  const std::string replica = text(at(snapshot, {"spec", "replica"}));
  std::vector<fs::path> candidates;
  std::string location = text(at(snapshot, {"status", "bundle", "location"}));
  if (location.rfind("file://", 0) == 0) candidates.emplace_back(location.substr(7));
  if (!ns.empty() && !pod.empty()) {
    candidates.push_back(fs::path(options_.evidenceDir) / ns / pod / id);
    if (!replica.empty()) candidates.push_back(fs::path(options_.evidenceDir) / replica / ns / pod / id);
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(options_.evidenceDir, ec);
  for (const fs::path& candidate : candidates) {
    fs::path real = fs::weakly_canonical(candidate, ec);
    // Only inside the evidence folder, and only a sealed bundle of this id.
    if (ec || real.filename() != id || real.string().rfind(root.string() + "/", 0) != 0) continue;
    if (fs::is_regular_file(real / evidence::kManifestFileName, ec)) return real.string();
  }
  return {};
}

bool EvidenceDownloads::patchStatus(const json& download, const json& status) {
  const std::string uid = text(at(download, {"metadata", "uid"}));
  kube::Request patch;
  patch.method = "PATCH";
  patch.verb = "patch";
  patch.resource = "evidencedownloads/status";
  patch.contentType = "application/merge-patch+json";
  patch.path = kGroupPath + options_.namespaceName + "/evidencedownloads/" + text(at(download, {"metadata", "name"})) + "/status";
  // With the resourceVersion seen: when another replica answered first, this one is refused (409).
  patch.body = json{{"metadata", {{"resourceVersion", at(download, {"metadata", "resourceVersion"})}}},
                    {"status", status}}
                   .dump();
  auto response = client_.send(patch);
  if (response.ok()) {
    std::lock_guard lock(mutex_);
    answered_.insert(uid);
    return true;
  }
  if (response.status != 409 && response.status != 404) {
    log::warn("evidence download: its status could not be written", {{"error", response.describe()}});
  }
  return false;
}

void EvidenceDownloads::remove(const json& download, const char* why) {
  kube::Request del;
  del.method = "DELETE";
  del.verb = "delete";
  del.resource = "evidencedownloads";
  del.path = kGroupPath + options_.namespaceName + "/evidencedownloads/" + text(at(download, {"metadata", "name"}));
  auto response = client_.send(del);
  if (response.ok()) {
    log::info("EvidenceDownload removed", {{"download", text(at(download, {"metadata", "name"}))}, {"reason", why}});
    std::lock_guard lock(mutex_);
    answered_.erase(text(at(download, {"metadata", "uid"})));
  }
}

EvidenceDownloads::Answer EvidenceDownloads::serve(const std::string& snapshotId, const std::string& token) {
  Answer answer;
  answer.snapshotId = snapshotId;
  Grant grant;
  {
    std::lock_guard lock(mutex_);
    auto found = token.empty() ? grants_.end() : grants_.find(core::sha256Hex(token));
    bool valid = found != grants_.end() && found->second.snapshotId == snapshotId && found->second.expires > Clock::now();
    // A token tried on another snapshot is spent too: whoever holds it is probing.
    if (!valid && found != grants_.end()) grants_.erase(found);
    if (!valid) {
      metrics_.downloads.Add({{"result", "refused"}}).Increment();
      answer.status = 401;
      answer.body = errorBody("the download token is unknown, used, expired or for another snapshot: create a new "
                              "EvidenceDownload (kubectl podmortem get " + snapshotId + ")").dump();
      return answer;
    }
    grant = found->second;
    grants_.erase(found);  // single use, whatever happens next
  }
  // The artifacts left for S3 meanwhile (evidence.s3.keepLocal: false writes uploaded.json before it
  // removes anything): what is here is no longer the bundle.
  const fs::path uploadedRecord = fs::path(grant.bundleDir) / evidence::kUploadedFileName;
  auto movedToS3 = [&] {
    std::error_code ec;
    return fs::exists(fs::symlink_status(uploadedRecord, ec));
  };
  auto refuse = [&](unsigned status, const std::string& message) {
    metrics_.downloads.Add({{"result", "failed"}}).Increment();
    answer.status = status;
    answer.body = errorBody(message).dump();
    return answer;
  };
  const std::string again = ": create a new EvidenceDownload (kubectl podmortem get " + snapshotId + ")";
  if (movedToS3()) return refuse(409, "the bundle's artifacts moved to S3 after this token was given" + again);
  uint64_t bytes = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(grant.bundleDir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  if (bytes > options_.maxBundleBytes) {
    return refuse(413, "the bundle holds " + std::to_string(bytes) + " bytes, over download.maxBundleBytes (" +
                           std::to_string(options_.maxBundleBytes) +
                           "): copy it from the volume (manifests/tools/evidence-reader.yaml) or from S3");
  }
  auto archive = evidence::archiveBundle(grant.bundleDir, snapshotId);
  if (archive.ok() && movedToS3()) return refuse(409, "the bundle's artifacts moved to S3 while it was read" + again);
  if (!archive.ok()) {
    metrics_.downloads.Add({{"result", "failed"}}).Increment();
    answer.status = 500;
    answer.body = errorBody("the bundle could not be read: " + archive.error().message).dump();
    return answer;
  }
  metrics_.downloads.Add({{"result", "served"}}).Increment();
  log::info("evidence downloaded", {{"download", grant.downloadName}, {"snapshot", snapshotId}, {"bytes", archive->size()}});
  answer.body = std::move(*archive);
  answer.contentType = "application/x-tar";
  return answer;
}

}  // namespace podmortem::controller
