#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "podmortem/core/result.h"

namespace podmortem::controller {

// A finding waiting in the outbox.
struct OutboxRecord {
  uint64_t sequence = 0;
  std::string key;      // the idempotency key: the same on every redelivery
  std::string pod;      // "<namespace>/<name>"
  int64_t createdMillis = 0;
  std::string finding;  // the OCSF JSON
};

// The durable outbox findings wait in until every sink has them: one file per finding under
// <dir>/findings (named by a sequence number, fsync'd and renamed into place) and one cursor
// per sink under <dir>/cursors (the last sequence the sink took). A sink is fed in sequence
// order, so each pod's findings arrive in the order they were made; a restart goes on from the
// cursors, so delivery is at least once (a finding sent but not yet marked is sent again, with
// the same key). Bounded: past `maxPending` findings the oldest is removed, and each sink that
// had not taken it counts a drop.
//
// One process at a time: the folder is locked (flock on <dir>/lock) while it is open, so that a
// replica that died leaves an outbox another one can take over (tryAdopt), and two live ones
// never share one.
class FindingsOutbox {
 public:
  // Throws std::runtime_error when the folder cannot be made or another process holds it.
  FindingsOutbox(std::filesystem::path dir, std::vector<std::string> sinks, size_t maxPending);
  ~FindingsOutbox();
  FindingsOutbox(const FindingsOutbox&) = delete;
  FindingsOutbox& operator=(const FindingsOutbox&) = delete;

  // The outbox a stopped process left at `dir`, locked for this one; null when a live process
  // holds it (or it cannot be read).
  static std::unique_ptr<FindingsOutbox> tryAdopt(const std::filesystem::path& dir,
                                                  std::vector<std::string> sinks, size_t maxPending);

  // Writes the finding durably (returns once it is on disk); its sequence number, or why not.
  // `dropped` says, per sink, how many findings it lost to the bound.
  core::Result<uint64_t> append(const std::string& key, const std::string& pod,
                                int64_t createdMillis, const std::string& finding,
                                std::map<std::string, uint64_t>& dropped);

  // The oldest finding `sink` has not taken; empty when it has them all. A damaged file (not a
  // finding, or gone) is skipped and counted in `unreadable`, never retried for ever; an error
  // reading one (EIO, no file descriptors) is returned, to be tried again.
  core::Result<std::optional<OutboxRecord>> next(const std::string& sink, uint64_t& unreadable);

  // `sink` refused the finding as malformed: a copy is kept under <dir>/rejected/<sink>/ (at most
  // maxPending of them) for someone to look at, and the sink goes on past it.
  core::Status rejected(const std::string& sink, uint64_t sequence);

  // `sink` took everything up to `sequence`: its cursor moves (durably) and files every sink
  // took are removed.
  core::Status delivered(const std::string& sink, uint64_t sequence);

  size_t pending(const std::string& sink) const;
  size_t pendingForAny() const;  // findings some sink has not taken
  const std::filesystem::path& dir() const { return dir_; }
  // When the oldest finding `sink` has not taken was made; empty when it has them all.
  std::optional<int64_t> oldestPendingMillis(const std::string& sink) const;

 private:
  struct Entry {
    uint64_t sequence;
    int64_t createdMillis;
  };

  std::filesystem::path fileOf(uint64_t sequence) const;
  core::Status saveCursor(const std::string& sink, uint64_t sequence);
  void prune();  // under mutex_
  std::deque<Entry>::const_iterator firstAfter(uint64_t sequence) const;

  struct Adopt {};
  FindingsOutbox(Adopt, std::filesystem::path dir, std::vector<std::string> sinks, size_t maxPending,
                 int lockFd);
  void load(const std::vector<std::string>& sinks);

  const std::filesystem::path dir_;
  const size_t maxPending_;
  int lockFd_ = -1;
  mutable std::mutex mutex_;
  std::deque<Entry> entries_;               // on disk, in sequence order
  std::map<std::string, uint64_t> cursor_;  // per sink: the last sequence it took
  uint64_t nextSequence_ = 1;
};

}  // namespace podmortem::controller
