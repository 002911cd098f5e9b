#include "findings_outbox.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "podmortem/core/file_io.h"
#include "podmortem/core/log.h"

namespace podmortem::controller {

namespace fs = std::filesystem;
namespace fileio = core::fileio;
namespace log = core::log;
using nlohmann::json;

namespace {

constexpr std::string_view kRecordSuffix = ".json";

std::optional<uint64_t> parseNumber(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

void makeDir(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw std::runtime_error("findings outbox: cannot create " + path.string() + ": " + ec.message());
  fs::permissions(path, fs::perms::owner_all, ec);
}

// When a finding was made: from its record, else (a damaged one) the file's own time, so that
// one bad file does not read as decades old.
int64_t createdMillisOf(const fs::path& file) {
  std::string text;
  if (fileio::readFile(file.string(), text).ok()) {
    json record = json::parse(text, nullptr, false);
    if (record.is_object() && record["createdMillis"].is_number_integer()) {
      return record["createdMillis"].get<int64_t>();
    }
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return 0;
  return int64_t{info.st_mtim.tv_sec} * 1000 + info.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

// The lock of an outbox folder: an open descriptor of <dir>/lock with an exclusive flock, or -1
// when another process holds it.
static int lockOutbox(const fs::path& dir) {
  int fd = ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

FindingsOutbox::FindingsOutbox(fs::path dir, std::vector<std::string> sinks, size_t maxPending)
    : dir_(std::move(dir)), maxPending_(std::max<size_t>(1, maxPending)) {
  makeDir(dir_);
  lockFd_ = lockOutbox(dir_);
  if (lockFd_ < 0) {
    throw std::runtime_error("findings outbox " + dir_.string() +
                             " is in use by another podmortem process (or cannot be locked): "
                             "give each replica its own (evidence.perReplica or export.outboxDir)");
  }
  load(sinks);
}

FindingsOutbox::FindingsOutbox(Adopt, fs::path dir, std::vector<std::string> sinks,
                               size_t maxPending, int lockFd)
    : dir_(std::move(dir)), maxPending_(std::max<size_t>(1, maxPending)), lockFd_(lockFd) {
  load(sinks);
}

std::unique_ptr<FindingsOutbox> FindingsOutbox::tryAdopt(const fs::path& dir,
                                                         std::vector<std::string> sinks,
                                                         size_t maxPending) {
  std::error_code ec;
  if (!fs::is_directory(dir / "findings", ec)) return nullptr;
  int fd = lockOutbox(dir);
  if (fd < 0) return nullptr;
  try {
    return std::unique_ptr<FindingsOutbox>(new FindingsOutbox(Adopt{}, dir, std::move(sinks), maxPending, fd));
  } catch (const std::exception&) {
    return nullptr;  // the constructor closed nothing: the descriptor goes with the object
  }
}

FindingsOutbox::~FindingsOutbox() {
  if (lockFd_ >= 0) ::close(lockFd_);
}

void FindingsOutbox::load(const std::vector<std::string>& sinks) {
  makeDir(dir_ / "findings");
  makeDir(dir_ / "cursors");
  std::error_code ec;
  uint64_t highest = 0;
  for (const auto& file : fs::directory_iterator(dir_ / "findings", ec)) {
    std::string name = file.path().filename().string();
    if (name.ends_with(".partial")) {  // a write a crash cut short: never acknowledged
      fs::remove(file.path(), ec);
      continue;
    }
    if (!name.ends_with(kRecordSuffix)) continue;
    auto sequence = parseNumber(std::string_view(name).substr(0, name.size() - kRecordSuffix.size()));
    if (!sequence) continue;
    entries_.push_back({*sequence, createdMillisOf(file.path())});
    highest = std::max(highest, *sequence);
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
  for (const auto& sink : sinks) {
    std::string text;
    std::optional<uint64_t> saved;
    if (fileio::readFile((dir_ / "cursors" / sink).string(), text).ok()) {
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      saved = parseNumber(text);
    }
    // A new sink gets what is still in the outbox.
    cursor_[sink] = saved ? *saved : (entries_.empty() ? highest : entries_.front().sequence - 1);
    highest = std::max(highest, cursor_[sink]);
  }
  // Never reuse a number a sink already took: its cursor would skip the new finding.
  nextSequence_ = highest + 1;
  std::lock_guard lock(mutex_);
  prune();
}

fs::path FindingsOutbox::fileOf(uint64_t sequence) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(sequence));
  return dir_ / "findings" / (std::string(name) + std::string(kRecordSuffix));
}

core::Result<uint64_t> FindingsOutbox::append(const std::string& key, const std::string& pod,
                                              int64_t createdMillis, const std::string& finding,
                                              std::map<std::string, uint64_t>& dropped) {
  std::lock_guard lock(mutex_);
  uint64_t sequence = nextSequence_;
  json record = {{"sequence", sequence},
                 {"key", key},
                 {"pod", pod},
                 {"createdMillis", createdMillis},
                 {"finding", json::parse(finding, nullptr, false)}};
  if (record["finding"].is_discarded()) {
    return core::makeError(core::ErrorCode::kInvalidArgument, "a finding that is not JSON");
  }
  std::string path = fileOf(sequence).string();
  std::string temporary = path + ".partial";
  uint64_t written = 0;
  if (auto status = fileio::writeNewFile(temporary, record.dump(), written); !status.ok()) {
    ::unlink(temporary.c_str());
    return status.error();
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temporary.c_str());
    return core::makeError(core::errorCodeForErrno(err),
                           "rename to " + path + ": " + fileio::errnoText(err));
  }
  if (auto status = fileio::syncDir((dir_ / "findings").string()); !status.ok()) {
    return status.error();
  }
  ++nextSequence_;
  entries_.push_back({sequence, createdMillis});
  while (entries_.size() > maxPending_) {
    uint64_t oldest = entries_.front().sequence;
    for (auto& [sink, cursor] : cursor_) {
      if (cursor < oldest) {
        ++dropped[sink];
        cursor = oldest;
        if (auto status = saveCursor(sink, cursor); !status.ok()) {
          log::warn("findings outbox: cannot save a cursor", {{"sink", sink}, {"error", status.error().message}});
        }
      }
    }
    prune();
  }
  return sequence;
}

std::deque<FindingsOutbox::Entry>::const_iterator FindingsOutbox::firstAfter(uint64_t sequence) const {
  return std::upper_bound(entries_.begin(), entries_.end(), sequence,
                          [](uint64_t value, const Entry& entry) { return value < entry.sequence; });
}

core::Result<std::optional<OutboxRecord>> FindingsOutbox::next(const std::string& sink,
                                                                uint64_t& unreadable) {
  std::lock_guard lock(mutex_);
  auto cursor = cursor_.find(sink);
  if (cursor == cursor_.end()) return std::optional<OutboxRecord>();
  for (auto it = firstAfter(cursor->second); it != entries_.end(); it = firstAfter(cursor->second)) {
    std::string text;
    auto read = fileio::readFile(fileOf(it->sequence).string(), text);
    if (!read.ok() && read.error().code != core::ErrorCode::kNotFound) return read.error();
    json record = read.ok() ? json::parse(text, nullptr, false) : json();
    if (record.is_object() && record.contains("finding") && record["key"].is_string() &&
        record["pod"].is_string() && record["createdMillis"].is_number_integer()) {
      return std::optional<OutboxRecord>(OutboxRecord{
          it->sequence, record["key"].get<std::string>(), record["pod"].get<std::string>(),
          record["createdMillis"].get<int64_t>(), record["finding"].dump()});
    }
    // A damaged or vanished file is passed over, said and counted: it must not stop the sink.
    log::error("findings outbox: an unreadable finding is skipped",
               {{"sink", sink}, {"sequence", it->sequence}, {"outbox", dir_.string()}});
    ++unreadable;
    cursor->second = it->sequence;
    (void)saveCursor(sink, cursor->second);
  }
  prune();
  return std::optional<OutboxRecord>();
}

core::Status FindingsOutbox::rejected(const std::string& sink, uint64_t sequence) {
  {
    std::lock_guard lock(mutex_);
    fs::path folder = dir_ / "rejected" / sink;
    std::error_code ec;
    fs::create_directories(folder, ec);
    fs::copy_file(fileOf(sequence), folder / fileOf(sequence).filename(),
                  fs::copy_options::overwrite_existing, ec);
    // Bounded like the outbox: the oldest copies go first.
    std::vector<fs::path> kept;
    for (const auto& file : fs::directory_iterator(folder, ec)) kept.push_back(file.path());
    std::sort(kept.begin(), kept.end());
    for (size_t i = 0; i + maxPending_ < kept.size(); ++i) fs::remove(kept[i], ec);
  }
  return delivered(sink, sequence);
}

core::Status FindingsOutbox::delivered(const std::string& sink, uint64_t sequence) {
  std::lock_guard lock(mutex_);
  auto cursor = cursor_.find(sink);
  if (cursor == cursor_.end() || sequence <= cursor->second) return {};
  cursor->second = sequence;
  auto saved = saveCursor(sink, sequence);
  prune();
  return saved;
}

core::Status FindingsOutbox::saveCursor(const std::string& sink, uint64_t sequence) {
  return fileio::replaceFile((dir_ / "cursors" / sink).string(), std::to_string(sequence) + "\n");
}

void FindingsOutbox::prune() {
  uint64_t everyoneHas = UINT64_MAX;
  for (const auto& [sink, cursor] : cursor_) everyoneHas = std::min(everyoneHas, cursor);
  if (cursor_.empty()) everyoneHas = entries_.empty() ? 0 : entries_.back().sequence;
  while (!entries_.empty() && entries_.front().sequence <= everyoneHas) {
    std::error_code ec;
    fs::remove(fileOf(entries_.front().sequence), ec);
    entries_.pop_front();
  }
}

size_t FindingsOutbox::pendingForAny() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

size_t FindingsOutbox::pending(const std::string& sink) const {
  std::lock_guard lock(mutex_);
  auto cursor = cursor_.find(sink);
  if (cursor == cursor_.end()) return 0;
  return static_cast<size_t>(entries_.end() - firstAfter(cursor->second));
}

std::optional<int64_t> FindingsOutbox::oldestPendingMillis(const std::string& sink) const {
  std::lock_guard lock(mutex_);
  auto cursor = cursor_.find(sink);
  if (cursor == cursor_.end()) return std::nullopt;
  auto it = firstAfter(cursor->second);
  if (it == entries_.end()) return std::nullopt;
  return it->createdMillis;
}

}  // namespace podmortem::controller
