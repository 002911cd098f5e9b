#include "podmortem/evidence/custody_ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "podmortem/core/file_io.h"
#include "podmortem/core/log.h"
#include "podmortem/core/sha256.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/evidence/bundle.h"

namespace podmortem::evidence {

namespace fileio = core::fileio;

namespace {
constexpr uint64_t kInitialTailWindow = 64 * 1024;

// Holds the cross-process lock for one append.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error_ = errno;
        break;
      }
    }
  }
  ~FileLock() {
    if (error_ == 0)
      ::flock(fd_, LOCK_UN);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  int error() const { return error_; }

 private:
  int fd_;
  int error_ = 0;
};

core::Error errnoError(std::string_view action, int err) {
  return core::makeError(core::errorCodeForErrno(err),
                         std::string(action) + ": " + fileio::errnoText(err));
}

core::Status readAt(int fd, uint64_t offset, uint64_t length, std::string& out) {
  out.assign(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errnoError("read", errno);
    }
    if (n == 0)
      break;
    done += static_cast<uint64_t>(n);
  }
  out.resize(done);
  return {};
}

core::Status writeAll(int fd, std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errnoError("write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}
}  // namespace

std::string formatLedgerLine(const LedgerEntry& entry) {
  // ordered_json keeps the fields in reading order; the chain hashes bytes, not key order.
  nlohmann::ordered_json line = {{"seq", entry.seq},
                                 {"time", entry.time},
                                 {"snapshotId", entry.snapshotId},
                                 {"bundle", entry.bundle},
                                 {"manifestSha256", entry.manifestSha256},
                                 {"prevSha256", entry.prevSha256}};
  return line.dump();
}

bool parseLedgerLine(std::string_view line, LedgerEntry& entry) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return false;
  auto text = [&](const char* key, std::string& out) {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string())
      return false;
    out = it->get<std::string>();
    return true;
  };
  auto seq = json.find("seq");
  if (seq == json.end() || !seq->is_number_unsigned())
    return false;
  entry.seq = seq->get<uint64_t>();
  return text("time", entry.time) && text("snapshotId", entry.snapshotId) &&
         text("bundle", entry.bundle) && text("manifestSha256", entry.manifestSha256) &&
         text("prevSha256", entry.prevSha256);
}

CustodyLedger::CustodyLedger(std::string path) : path_(std::move(path)) {
  bool existed = std::filesystem::exists(std::filesystem::symlink_status(path_));
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error("custody ledger " + path_ + ": " + fileio::errnoText(errno));
  }
  core::Status status;
  if (!existed) {
    std::string parent = std::filesystem::path(path_).parent_path().string();
    status = ::fchmod(fd_, 0600) != 0 ? errnoError("chmod", errno)
                                      : fileio::syncDir(parent.empty() ? "." : parent);
  }
  if (status.ok()) {
    FileLock lock(fd_);
    status = lock.error() != 0 ? errnoError("flock", lock.error()) : recoverTail();
  }
  if (!status.ok()) {
    ::close(fd_);
    throw std::runtime_error("custody ledger " + path_ + ": " + status.error().message);
  }
}

CustodyLedger::~CustodyLedger() {
  if (fd_ >= 0)
    ::close(fd_);
}

core::Status CustodyLedger::recoverTail() {
  struct stat info {};
  if (::fstat(fd_, &info) != 0)
    return errnoError("stat", errno);
  uint64_t size = static_cast<uint64_t>(info.st_size);
  nextSeq_ = 1;
  prevSha256_ = std::string(kGenesisPrevSha256);
  knownSize_ = size;
  if (size == 0)
    return {};

  // Only the end of the file matters; read more only if the window holds no whole line that
  // parses (the ledger of a long-running cluster can be large).
  uint64_t window = kInitialTailWindow;
  while (true) {
    uint64_t start = size > window ? size - window : 0;
    std::string data;
    if (auto read = readAt(fd_, start, size - start, data); !read.ok())
      return read;
    if (data.size() != size - start)
      return core::makeError(core::ErrorCode::kIo, "read: file shrank while reading");

    bool torn = data.back() != '\n';
    std::size_t begin = 0;
    if (start > 0) {
      std::size_t firstNewline = data.find('\n');
      begin = firstNewline == std::string::npos ? data.size() : firstNewline + 1;
    }
    std::vector<std::string_view> lines;
    std::string_view rest(data);
    rest.remove_prefix(begin);
    while (true) {
      std::size_t newline = rest.find('\n');
      if (newline == std::string_view::npos)
        break;
      lines.push_back(rest.substr(0, newline));
      rest.remove_prefix(newline + 1);
    }
    std::string_view fragment = rest;

    const LedgerEntry* found = nullptr;
    LedgerEntry entry;
    for (auto it = lines.rbegin(); it != lines.rend() && found == nullptr; ++it) {
      if (parseLedgerLine(*it, entry))
        found = &entry;
    }
    if (found == nullptr && start > 0) {
      window *= 2;
      continue;
    }
    if (found != nullptr)
      nextSeq_ = found->seq + 1;
    if (!lines.empty() && !parseLedgerLine(lines.back(), entry)) {
      core::log::warn("custody ledger: last line does not parse; chaining after it",
                      {{"file", path_}});
    }
    if (torn) {
      // An append that was cut short (crash, full disk). Terminate it so the next entry starts a
      // line of its own; the fragment stays as evidence and verify reports it.
      core::log::warn("custody ledger: last line is incomplete; starting a new line",
                      {{"file", path_}, {"bytes", static_cast<uint64_t>(fragment.size())}});
      core::Status written = writeAll(fd_, "\n");
      if (written.ok() && ::fsync(fd_) != 0)
        written = errnoError("fsync", errno);
      if (!written.ok()) {
        return core::makeError(written.error().code,
                               "terminate incomplete line: " + written.error().message);
      }
      prevSha256_ = core::sha256Hex(fragment);
      knownSize_ = size + 1;
    } else if (!lines.empty()) {
      prevSha256_ = core::sha256Hex(lines.back());
    }
    return {};
  }
}

core::Status CustodyLedger::append(std::string_view snapshotId, std::string_view bundle,
                                   std::string_view manifestSha256,
                                   std::chrono::system_clock::time_point time,
                                   LedgerEntry* appended, LedgerAnchor* anchor) {
  auto failed = [this](const core::Error& error) {
    return core::makeError(error.code, "custody ledger " + path_ + ": " + error.message);
  };
  std::lock_guard guard(mutex_);
  FileLock lock(fd_);
  if (lock.error() != 0)
    return failed(errnoError("flock", lock.error()));

  struct stat info {};
  if (::fstat(fd_, &info) != 0)
    return failed(errnoError("stat", errno));
  if (static_cast<uint64_t>(info.st_size) != knownSize_) {
    // Another process (a second replica on a shared volume) appended since our last line.
    if (auto recovered = recoverTail(); !recovered.ok())
      return failed(recovered.error());
  }

  LedgerEntry entry{nextSeq_,
                    core::formatTimestamp(time),
                    std::string(snapshotId),
                    std::string(bundle),
                    std::string(manifestSha256),
                    prevSha256_};
  std::string line = formatLedgerLine(entry);
  core::Status written = writeAll(fd_, line + "\n");
  if (written.ok() && ::fsync(fd_) != 0)
    written = errnoError("fsync", errno);
  if (!written.ok()) {
    // Leave no torn line; if even that fails the next start-up terminates it.
    if (::ftruncate(fd_, static_cast<off_t>(knownSize_)) != 0) {
      core::log::warn("custody ledger: cannot cut back a failed append", {{"file", path_}});
    }
    return failed(written.error());
  }
  knownSize_ += line.size() + 1;
  std::string previous = prevSha256_;
  prevSha256_ = core::sha256Hex(line);
  if (firstLineSha256_.empty()) {
    if (entry.seq == 1) {
      firstLineSha256_ = prevSha256_;
    } else if (auto first = readFirstLineSha256(); first.ok()) {
      firstLineSha256_ = *first;
    }
  }
  if (anchor != nullptr) *anchor = {firstLineSha256_, entry.seq, prevSha256_, previous};
  ++nextSeq_;
  if (appended != nullptr)
    *appended = std::move(entry);
  return {};
}

core::Result<std::string> CustodyLedger::readFirstLineSha256() const {
  std::string line;
  char buffer[4096];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd_, buffer, sizeof buffer, offset);
    if (n < 0) return errnoError("read", errno);
    if (n == 0) return core::makeError(core::ErrorCode::kNotFound, "the ledger has no complete line");
    std::string_view piece(buffer, static_cast<size_t>(n));
    auto newline = piece.find('\n');
    line.append(piece.substr(0, newline));
    if (newline != std::string_view::npos) return core::sha256Hex(line);
    offset += n;
  }
}

}  // namespace podmortem::evidence
