#include "podmortem/evidence/s3_uploads.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "podmortem/core/base64.h"
#include "podmortem/core/file_io.h"
#include "podmortem/core/log.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/core/sha256.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/evidence/addendum.h"
#include "podmortem/evidence/dsse.h"
#include "podmortem/evidence/store.h"
#include "s3_client.h"

namespace podmortem::evidence {

namespace fs = std::filesystem;
namespace fileio = core::fileio;
namespace log = core::log;
using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string digest(const char* algorithm, std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &size, EVP_get_digestbyname(algorithm), nullptr);
  return std::string(reinterpret_cast<char*>(out), size);
}

// Upload order: artifacts, then manifest.json, then the attestation, so that whoever sees a
// manifest in the store finds every artifact it names already there.
int rank(const std::string& relative) {
  if (relative == kManifestFileName) return 1;
  if (relative == kAttestationFileName || relative == kSignatureFileName) return 2;
  return 0;
}

// Why an upload stopped: retried later (the store is down, refuses our credentials) or not
// (an object is there with other content).
struct Failure {
  std::string reason;
  bool conflict = false;
};

// What a bundle (or addendum) folder uploads: its files, bundle-relative, in upload order;
// without its addenda (uploaded as jobs of their own, when they are sealed) and uploaded.json.
core::Status filesOf(const fs::path& dir, std::vector<std::string>& files) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().lexically_relative(dir).generic_string();
    if (name == kAddendaFolder || name.rfind(std::string(kAddendaFolder) + "/", 0) == 0) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (name == kUploadedFileName) continue;
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(name);
  }
  if (ec) return core::makeError(core::ErrorCode::kIo, "cannot list " + dir.string() + ": " + ec.message());
  std::stable_sort(files.begin(), files.end(),
                   [](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return {};
}

// evidence.s3.keepLocal: false. Once every object of `dir` is confirmed in the store, its
// artifacts leave the volume; manifest.json and the signatures stay (the ledger and verify need
// them), and uploaded.json says where the rest went, with each removed file's SHA-256. Written
// before anything is removed and merged on a second run, so a crash between the two loses no name.
void releaseLocalCopy(const fs::path& dir, const std::string& url) {
  std::vector<std::string> files;
  if (!filesOf(dir, files).ok()) return;
  const fs::path recordPath = dir / kUploadedFileName;
  json record = json::object();
  std::string text;
  if (fileio::readFile(recordPath.string(), text).ok()) record = json::parse(text, nullptr, false);
  if (!record.is_object()) record = json::object();
  json removed = record.contains("removed") && record["removed"].is_object() ? record["removed"] : json::object();
  std::vector<std::string> leaving;
  for (const auto& name : files) {
    if (rank(name) != 0) continue;  // manifest.json, attestation.dsse.json, manifest.json.sig
    std::string sha;
    uint64_t size = 0;
    if (!fileio::hashFile((dir / name).string(), sha, size).ok()) return;
    removed[name] = {{"sha256", sha}, {"size", size}};
    leaving.push_back(name);
  }
  record["location"] = url;
  record["uploadedAt"] = core::formatTimestamp(Clock::now());
  record["removed"] = removed;
  if (auto written = fileio::replaceFile(recordPath.string(), record.dump(2) + "\n"); !written.ok()) {
    log::warn("S3 upload: uploaded.json could not be written, so the local copy stays",
              {{"bundle", dir.string()}, {"error", written.error().message}});
    return;
  }
  std::error_code ec;
  for (const auto& name : leaving) fs::remove(dir / name, ec);
  // Folders the removed artifacts leave empty (logs/, ...), deepest first.
  std::vector<fs::path> folders;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().lexically_relative(dir).generic_string() == kAddendaFolder) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec) && !it->is_symlink(ec)) folders.push_back(it->path());
  }
  for (auto folder = folders.rbegin(); folder != folders.rend(); ++folder) {
    if (fs::is_empty(*folder, ec)) fs::remove(*folder, ec);
  }
  // The removals need no fsync: after a crash a file still there is removed on the next run.
}

}  // namespace

class S3Uploads::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        client_(endpointFor(options_.settings, options_.settings.bucket)),
        worker_("s3 uploads", std::chrono::seconds(10), [this](std::stop_token stop) { drain(stop); }) {
    std::error_code ec;
    fs::create_directories(fs::path(options_.queueDir) / "failed", ec);
    if (ec) throw std::runtime_error("S3 upload queue " + options_.queueDir + ": " + ec.message());
    uint64_t highest = 0;
    for (const auto& entry : fs::directory_iterator(options_.queueDir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.ends_with(".partial")) fs::remove(entry.path(), ec);
      if (!name.ends_with(".json")) continue;
      highest = std::max<uint64_t>(highest, std::strtoull(name.c_str(), nullptr, 10));
      std::string text;
      int64_t created = nowMillis();
      if (fileio::readFile(entry.path().string(), text).ok()) {
        json job = json::parse(text, nullptr, false);
        if (job.is_object() && job["createdMillis"].is_number_integer()) created = job["createdMillis"].get<int64_t>();
      }
      queued_[entry.path().string()] = created;
    }
    nextJob_ = highest + 1;
    worker_.start();
  }

  ~Impl() { worker_.stop(); }

  core::Status enqueue(const SealedEvidence& sealed) {
    json job = {{"snapshotId", sealed.snapshotId},
                {"dir", sealed.dir},
                {"relative", sealed.relative},
                {"ledger",
                 {{"id", sealed.custody.ledgerId},
                  {"seq", sealed.custody.seq},
                  {"line", sealed.ledgerLine}}},
                {"createdMillis", nowMillis()}};
    std::string path;
    {
      std::lock_guard lock(mutex_);
      char name[32];
      std::snprintf(name, sizeof name, "%020llu.json", static_cast<unsigned long long>(nextJob_++));
      path = (fs::path(options_.queueDir) / name).string();
    }
    if (auto written = fileio::replaceFile(path, job.dump()); !written.ok()) return written;
    {
      std::lock_guard lock(mutex_);
      queued_[path] = job["createdMillis"].get<int64_t>();
    }
    worker_.wake();
    return {};
  }

  State state() const {
    std::lock_guard lock(mutex_);
    State state = counts_;
    state.pending = queued_.size();
    int64_t oldest = 0;
    for (const auto& [file, created] : queued_) oldest = oldest == 0 ? created : std::min(oldest, created);
    if (oldest != 0) state.oldestPendingSeconds = std::max<int64_t>(0, nowMillis() - oldest) / 1000.0;
    return state;
  }

  std::string urlOf(const std::string& relative) const { return client_.url(keyOf(relative)); }

 private:
  std::string keyOf(const std::string& relative) const {
    return options_.settings.prefix.empty() ? relative : options_.settings.prefix + "/" + relative;
  }

  std::vector<fs::path> jobFiles() const {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.queueDir, ec)) {
      if (entry.path().extension() == ".json" && entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // Uploads what is queued, oldest first; on failure waits (doubling up to maxBackoff) and
  // tries the same job again, so that bundles reach the store in the order they were sealed.
  void drain(std::stop_token stop) {
    std::chrono::milliseconds backoff =
        std::min<std::chrono::milliseconds>(std::chrono::seconds(1), options_.settings.maxBackoff);
    while (!stop.stop_requested()) {
      auto files = jobFiles();
      if (files.empty()) return;
      const fs::path& file = files.front();
      std::string text;
      json job;
      if (fileio::readFile(file.string(), text).ok()) job = json::parse(text, nullptr, false);
      if (!job.is_object()) {
        log::error("S3 upload queue: an unreadable job is set aside", {{"job", file.string()}});
        moveAside(file);
        continue;
      }
      auto failure = upload(job, stop);
      if (!failure) {
        if (!options_.settings.keepLocal) releaseLocalCopy(job.value("dir", ""), urlOf(job.value("relative", "")));
        std::error_code ec;
        fs::remove(file, ec);
        forget(file);
        bool recovered;
        {
          std::lock_guard lock(mutex_);
          ++counts_.uploaded;
          recovered = !counts_.lastError.empty();
          counts_.lastError.clear();
        }
        if (recovered) log::info("S3 store reachable again: uploads go on");
        std::string relative = job.value("relative", "");
        if (options_.onUploaded) options_.onUploaded(job.value("snapshotId", ""), relative, urlOf(relative));
        backoff = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), options_.settings.maxBackoff);
        continue;
      }
      bool first;
      {
        std::lock_guard lock(mutex_);
        ++counts_.failures;
        if (failure->conflict) ++counts_.conflicts;
        first = counts_.lastError != failure->reason;
        counts_.lastError = failure->reason;
      }
      if (failure->conflict) {
        log::error("S3 upload: an object is in the store with other content; it is never overwritten and the "
                   "bundle stays on the volume", {{"snapshot", job.value("snapshotId", "")}, {"error", failure->reason}});
        moveAside(file);
        continue;
      }
      if (first) {
        log::warn("S3 upload failed: the bundle stays queued and on the volume",
                  {{"snapshot", job.value("snapshotId", "")}, {"error", failure->reason}});
      }
      if (!worker_.sleepFor(stop, backoff)) return;
      backoff = std::min(backoff * 2, options_.settings.maxBackoff);
    }
  }

  void forget(const fs::path& file) {
    std::lock_guard lock(mutex_);
    queued_.erase(file.string());
  }

  void moveAside(const fs::path& file) {
    forget(file);
    std::error_code ec;
    fs::rename(file, fs::path(options_.queueDir) / "failed" / file.filename(), ec);
    if (ec) fs::remove(file, ec);
  }

  std::optional<Failure> upload(const json& job, std::stop_token stop) {
    const fs::path dir = job.value("dir", "");
    const std::string relative = job.value("relative", "");
    std::vector<std::string> files;
    if (auto listed = filesOf(dir, files); !listed.ok()) return Failure{listed.error().message};
    for (const auto& name : files) {
      if (stop.stop_requested()) return Failure{"stopping"};
      std::string bytes;
      if (auto read = fileio::readFile((dir / name).string(), bytes); !read.ok()) {
        return Failure{read.error().message};
      }
      if (auto failure = putOnce(keyOf(relative + "/" + name), bytes)) return failure;
    }
    // The ledger line, as an object of its own: anchored in the store too.
    json ledger = job.contains("ledger") ? job.at("ledger") : json();  // a copy: [] of a const json asserts
    if (ledger.is_object() && ledger["seq"].is_number_unsigned() && ledger["seq"].get<uint64_t>() > 0) {
      char seq[32];
      std::snprintf(seq, sizeof seq, "%020llu", static_cast<unsigned long long>(ledger["seq"].get<uint64_t>()));
      std::string key = keyOf("ledger/" + ledger.value("id", "unknown") + "/" + seq);
      if (auto failure = putOnce(key, ledger.value("line", "") + "\n")) return failure;
    }
    return std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> lockHeaders() const {
    if (options_.settings.objectLock.empty()) return {};
    return {{"x-amz-object-lock-mode", options_.settings.objectLock},
            {"x-amz-object-lock-retain-until-date",
             core::formatTimestamp(Clock::now() + options_.settings.retention)}};
  }

  // Writes `bytes` at `key` unless the same bytes are there already; never over other bytes.
  std::optional<Failure> putOnce(const std::string& key, const std::string& bytes) {
    const std::string sha = core::sha256Hex(bytes);
    auto there = client_.head(key);
    if (there.ok()) {
      if (there.headers["x-amz-meta-sha256"] == sha) return std::nullopt;  // uploaded before a restart
      return Failure{"s3://" + options_.settings.bucket + "/" + key + " exists with other content", true};
    }
    if (there.status != 404) {
      // A HEAD answer has no body, so no reason: a GET of the same key says which (403
      // SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied).
      std::string why = there.describe();
      if (there.status == 400 || there.status == 403) why = client_.get(key).describe();
      return Failure{"HEAD " + key + ": " + why};
    }
    auto headers = lockHeaders();
    headers.emplace_back("x-amz-meta-sha256", sha);
    S3Answer put;
    if (bytes.size() > options_.settings.multipartThreshold) {
      put = putInParts(key, bytes, headers);
    } else {
      headers.emplace_back("content-md5", core::base64Encode(digest("MD5", bytes)));
      headers.emplace_back("x-amz-checksum-sha256", core::base64Encode(digest("SHA256", bytes)));
      put = client_.put(key, bytes, headers);
    }
    if (!put.ok()) return Failure{"PUT " + key + ": " + put.describe()};
    auto confirmed = client_.head(key);
    if (!confirmed.ok() || confirmed.headers["x-amz-meta-sha256"] != sha) {
      return Failure{"HEAD " + key + " after the upload: " +
                     (confirmed.ok() ? std::string("the SHA-256 differs") : confirmed.describe())};
    }
    std::lock_guard lock(mutex_);
    ++counts_.objects;
    counts_.bytes += bytes.size();
    return std::nullopt;
  }

  S3Answer putInParts(const std::string& key, const std::string& bytes,
                      std::vector<std::pair<std::string, std::string>> headers) {
    std::string uploadId;
    headers.emplace_back("x-amz-checksum-algorithm", "SHA256");
    auto created = client_.createMultipart(key, headers, uploadId);
    if (!created.ok()) return created;
    std::vector<std::string> etags;
    for (size_t offset = 0, part = 1; offset < bytes.size(); offset += options_.settings.partSize, ++part) {
      std::string etag;
      auto uploaded = client_.uploadPart(key, uploadId, static_cast<int>(part),
                                         bytes.substr(offset, options_.settings.partSize), etag);
      if (!uploaded.ok()) {
        client_.abortMultipart(key, uploadId);
        return uploaded;
      }
      etags.push_back(etag);
    }
    return client_.completeMultipart(key, uploadId, etags);
  }

  Options options_;
  S3Client client_;
  mutable std::mutex mutex_;
  uint64_t nextJob_ = 1;
  State counts_;
  std::map<std::string, int64_t> queued_;  // job file -> when it was queued
  core::PeriodicWorker worker_;  // last: its thread uses everything above
};

S3Uploads::S3Uploads(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
S3Uploads::~S3Uploads() = default;
core::Status S3Uploads::enqueue(const SealedEvidence& sealed) { return impl_->enqueue(sealed); }
S3Uploads::State S3Uploads::state() const { return impl_->state(); }
std::string S3Uploads::urlOf(const std::string& relative) const { return impl_->urlOf(relative); }

}  // namespace podmortem::evidence
