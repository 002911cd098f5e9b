#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podmortem::policy {

// One open segment file. Shared with readers so that a trail can be read after the window's
// lock is released: evicting the segment meanwhile unlinks the file, and the open descriptor
// keeps its bytes readable until the last reader lets go.
class SpoolSegment {
 public:
  SpoolSegment(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  ~SpoolSegment();
  SpoolSegment(const SpoolSegment&) = delete;
  SpoolSegment& operator=(const SpoolSegment&) = delete;

  // nullopt when the bytes cannot be read back (an I/O error, or the file was truncated).
  std::optional<std::string> read(uint32_t offset, uint32_t length) const;

  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_;
  std::filesystem::path path_;
};

// Raw audit events on disk in append-only segment files, so that only a compact index of them
// stays resident. A segment is deleted once every event in it has been released. Not
// thread-safe; the owner locks.
class RawSpool {
 public:
  struct Location {
    uint32_t segment = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
  };

  // Creates `dir` (0700) when missing and deletes segment files an earlier process left there.
  // Throws std::system_error when the folder cannot be made or listed.
  RawSpool(std::filesystem::path dir, uint64_t segmentBytes);
  ~RawSpool();
  RawSpool(const RawSpool&) = delete;
  RawSpool& operator=(const RawSpool&) = delete;

  // nullopt when the bytes could not be written (disk full, I/O error); the caller keeps them
  // some other way. Appends are buffered and written a megabyte at a time (one write per
  // event cost more than decoding it); buffered() hands out what is not in the file yet.
  std::optional<Location> append(std::string_view raw);
  void release(const Location& location);

  // The bytes of `location` while they are still in the write buffer, or held in memory after
  // their write failed; nullopt when they are in the segment file.
  std::optional<std::string> buffered(const Location& location) const;
  void flush();  // writes the buffer now (tests; at most once per buffer otherwise)

  // The segment holding `location`, null when it is gone.
  std::shared_ptr<const SpoolSegment> segment(uint32_t id) const;

  size_t segmentCount() const { return segments_.size(); }
  uint64_t writeFailures() const { return writeFailures_; }

  // Whether `name` is one of the files this class writes (and may delete).
  static bool isSegmentFileName(std::string_view name);

 private:
  struct Segment {
    std::shared_ptr<SpoolSegment> file;
    uint64_t size = 0;
    uint64_t liveEvents = 0;
  };

  bool openNextSegment();
  void dropSegment(std::map<uint32_t, Segment>::iterator it);

  static constexpr size_t kWriteBufferBytes = 1 << 20;
  // Bytes appended to segment pendingSegment_ from pendingOffset_ on, not yet written.
  std::string pending_;
  uint32_t pendingSegment_ = 0;
  uint64_t pendingOffset_ = 0;
  // Buffers whose write failed (disk full): kept, so their events stay readable, until their
  // segment goes.
  struct Stranded {
    uint64_t offset;
    std::string bytes;
  };
  std::map<uint32_t, std::vector<Stranded>> stranded_;

  std::filesystem::path dir_;
  uint64_t segmentBytes_;
  std::map<uint32_t, Segment> segments_;
  std::optional<uint32_t> current_;  // the segment appended to
  uint32_t nextSegment_ = 0;
  uint64_t writeFailures_ = 0;
  bool failing_ = false;  // to log a failing disk once, not once per event
};

}  // namespace podmortem::policy
