#include "findings_outbox.h"

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

}  // namespace

FindingsOutbox::FindingsOutbox(fs::path dir, std::vector<std::string> sinks, size_t maxPending)
    : dir_(std::move(dir)), maxPending_(std::max<size_t>(1, maxPending)) {
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
    int64_t created = 0;
    std::string text;
    if (fileio::readFile(file.path().string(), text).ok()) {
      json record = json::parse(text, nullptr, false);
      if (record.is_object()) created = record.value("createdMillis", int64_t{0});
    }
    entries_.push_back({*sequence, created});
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

std::optional<OutboxRecord> FindingsOutbox::next(const std::string& sink, uint64_t& unreadable) {
  std::lock_guard lock(mutex_);
  auto cursor = cursor_.find(sink);
  if (cursor == cursor_.end()) return std::nullopt;
  for (auto it = firstAfter(cursor->second); it != entries_.end(); it = firstAfter(cursor->second)) {
    std::string text;
    json record;
    if (fileio::readFile(fileOf(it->sequence).string(), text).ok()) {
      record = json::parse(text, nullptr, false);
    }
    if (record.is_object() && record.contains("finding") && record["key"].is_string()) {
      return OutboxRecord{it->sequence, record["key"].get<std::string>(), record.value("pod", ""),
                          record.value("createdMillis", int64_t{0}), record["finding"].dump()};
    }
    // A damaged file is passed over, said and counted: it must not stop the sink for ever.
    log::error("findings outbox: an unreadable finding is skipped",
               {{"sink", sink}, {"sequence", it->sequence}});
    ++unreadable;
    cursor->second = it->sequence;
    (void)saveCursor(sink, cursor->second);
  }
  return std::nullopt;
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
