#include "raw_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

#include "podmortem/core/log.h"

namespace podmortem::policy {
namespace {

namespace fs = std::filesystem;
namespace log = core::log;

constexpr std::string_view kPrefix = "audit-";
constexpr std::string_view kSuffix = ".seg";
// Offsets are 32-bit in every index entry; a segment never starts an event past this.
constexpr uint64_t kMaxSegmentBytes = 1ull << 30;

std::system_error systemError(int error, const std::string& what) {
  return std::system_error(error, std::generic_category(), what);
}

std::string segmentName(uint32_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "audit-%08x.seg", id);
  return name;
}

void makePrivateDirectory(const fs::path& dir) {
  std::error_code error;
  if (!dir.parent_path().empty())
    fs::create_directories(dir.parent_path(), error);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw systemError(errno, "cannot create audit spool folder " + dir.string());
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0)
    throw systemError(errno, "cannot use audit spool folder " + dir.string());
  if (!S_ISDIR(info.st_mode))
    throw systemError(ENOTDIR, "audit spool path is not a folder: " + dir.string());
  // Someone else's folder (a configured path) is not ours to chmod; the files are 0600 anyway.
  if ((info.st_mode & 077) != 0)
    log::warn("audit spool folder is readable by others", {{"path", dir.string()}});
}

}  // namespace

SpoolSegment::~SpoolSegment() {
  ::close(fd_);
}

std::optional<std::string> SpoolSegment::read(uint32_t offset, uint32_t length) const {
  std::string bytes(length, '\0');
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, bytes.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return std::nullopt;
    done += static_cast<size_t>(n);
  }
  return bytes;
}

bool RawSpool::isSegmentFileName(std::string_view name) {
  return name.size() > kPrefix.size() + kSuffix.size() && name.starts_with(kPrefix) &&
         name.ends_with(kSuffix);
}

RawSpool::RawSpool(fs::path dir, uint64_t segmentBytes)
    : dir_(std::move(dir)), segmentBytes_(std::clamp<uint64_t>(segmentBytes, 1, kMaxSegmentBytes)) {
  makePrivateDirectory(dir_);
  // An earlier process's segments are unreachable now (the index died with it) and hold
  // sensitive events: delete them rather than let them pile up.
  std::error_code error;
  std::vector<fs::path> leftovers;
  for (fs::directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
    if (isSegmentFileName(it->path().filename().string()))
      leftovers.push_back(it->path());
  }
  if (error)
    throw systemError(error.value(), "cannot list audit spool folder " + dir_.string());
  for (const auto& path : leftovers) {
    if (!fs::remove(path, error))
      log::warn("cannot delete an old audit spool segment",
                {{"path", path.string()}, {"error", error.message()}});
  }
  if (!leftovers.empty())
    log::info("deleted old audit spool segments",
              {{"path", dir_.string()}, {"count", static_cast<uint64_t>(leftovers.size())}});
}

RawSpool::~RawSpool() {
  while (!segments_.empty())
    dropSegment(segments_.begin());
}

bool RawSpool::openNextSegment() {
  fs::path path = dir_ / segmentName(nextSegment_);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {
    // Ids wrapped, or a file appeared behind our back: it is not in the index either way.
    ::unlink(path.c_str());
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  }
  if (fd < 0) {
    if (!failing_)
      log::warn("cannot create an audit spool segment, keeping raw events in memory",
                {{"path", path.string()}, {"error", std::strerror(errno)}});
    return false;
  }
  uint32_t id = nextSegment_++;
  segments_[id].file = std::make_shared<SpoolSegment>(fd, std::move(path));
  std::optional<uint32_t> previous = current_;
  current_ = id;
  // The previous segment stays until its last event goes, which may have happened already.
  if (previous) {
    auto it = segments_.find(*previous);
    if (it != segments_.end() && it->second.liveEvents == 0)
      dropSegment(it);
  }
  return true;
}

std::optional<RawSpool::Location> RawSpool::append(std::string_view raw) {
  if (raw.size() > UINT32_MAX)
    return std::nullopt;
  auto current = current_ ? segments_.find(*current_) : segments_.end();
  if (current == segments_.end() ||
      (current->second.size > 0 && current->second.size + raw.size() > segmentBytes_)) {
    flush();  // the buffer belongs to the segment being left
    if (!openNextSegment()) {
      ++writeFailures_;
      failing_ = true;
      return std::nullopt;
    }
    current = segments_.find(*current_);
  }
  Segment& segment = current->second;
  if (pending_.empty()) {
    pendingSegment_ = current->first;
    pendingOffset_ = segment.size;
  }
  pending_.append(raw);
  Location location{current->first, static_cast<uint32_t>(segment.size),
                    static_cast<uint32_t>(raw.size())};
  segment.size += raw.size();
  ++segment.liveEvents;
  if (pending_.size() >= kWriteBufferBytes)
    flush();
  return location;
}

void RawSpool::flush() {
  if (pending_.empty())
    return;
  auto segment = segments_.find(pendingSegment_);
  if (segment == segments_.end()) {  // every event in it is gone already
    pending_.clear();
    return;
  }
  const int fd = segment->second.file->fd();
  size_t done = 0;
  while (done < pending_.size()) {
    ssize_t n = ::pwrite(fd, pending_.data() + done, pending_.size() - done,
                         static_cast<off_t>(pendingOffset_ + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (!failing_)
        log::warn("cannot write the audit spool, keeping raw events in memory",
                  {{"path", segment->second.file->path().string()},
                   {"error", n < 0 ? std::strerror(errno) : "short write"}});
      ++writeFailures_;
      failing_ = true;
      stranded_[pendingSegment_].push_back({pendingOffset_, std::move(pending_)});
      pending_.clear();
      return;
    }
    done += static_cast<size_t>(n);
  }
  if (failing_) {
    log::info("audit spool writes work again", {{"path", dir_.string()}});
    failing_ = false;
  }
  pending_.clear();
}

std::optional<std::string> RawSpool::buffered(const Location& location) const {
  if (!pending_.empty() && location.segment == pendingSegment_ && location.offset >= pendingOffset_) {
    return pending_.substr(location.offset - pendingOffset_, location.length);
  }
  auto stranded = stranded_.find(location.segment);
  if (stranded == stranded_.end())
    return std::nullopt;
  for (const auto& piece : stranded->second) {
    if (location.offset >= piece.offset && location.offset + location.length <= piece.offset + piece.bytes.size())
      return piece.bytes.substr(location.offset - piece.offset, location.length);
  }
  return std::nullopt;
}

void RawSpool::release(const Location& location) {
  auto it = segments_.find(location.segment);
  if (it == segments_.end() || it->second.liveEvents == 0)
    return;
  // The segment being appended to stays even when empty: it is about to get the next event.
  if (--it->second.liveEvents == 0 && current_ != it->first)
    dropSegment(it);
}

std::shared_ptr<const SpoolSegment> RawSpool::segment(uint32_t id) const {
  auto it = segments_.find(id);
  return it == segments_.end() ? nullptr : it->second.file;
}

void RawSpool::dropSegment(std::map<uint32_t, Segment>::iterator it) {
  stranded_.erase(it->first);
  if (!pending_.empty() && pendingSegment_ == it->first)
    pending_.clear();
  std::error_code error;
  if (!fs::remove(it->second.file->path(), error) && error)
    log::warn("cannot delete an audit spool segment",
              {{"path", it->second.file->path().string()}, {"error", error.message()}});
  if (current_ == it->first)
    current_.reset();
  segments_.erase(it);
}

}  // namespace podmortem::policy
