#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nats_handles.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/policy/capture_claims.h"
#include "podmortem/stream/stream_metrics.h"

namespace podmortem::stream {

// Capture claims in a JetStream key-value bucket. A claim is an atomic create of the key (the
// SHA-256 of the capture key); its value names the owner and the snapshot id, and is rewritten
// every second while the owner captures (a heartbeat) and once more with the outcome. A
// follower polls the key: the outcome ends its wait; a value unchanged for three heartbeats
// means the owner died, and the follower takes the claim over with a compare-and-set on the
// revision it saw, so that of several followers exactly one captures.
class KvClaims final : public policy::CaptureClaims {
 public:
  // `connected`: whether NATS answers now; while it does not, claims say kUnavailable at once
  // rather than after a request timeout that would eat the hold.
  KvClaims(std::string replica, StreamMetrics& metrics, std::function<bool()> connected);
  ~KvClaims() override;  // stop()

  void attach(KvStorePtr bucket);
  void stop();

  Claim claim(const std::string& key, const std::string& snapshotId,
              std::chrono::steady_clock::time_point tryUntil) override;
  void release(const std::string& key, const Outcome& outcome) override;
  void follow(const std::string& key, const std::string& takeOverSnapshotId,
              std::chrono::steady_clock::time_point deadline, OnOutcome onOutcome,
              OnTakeOver onTakeOver, OnDeadline onDeadline) override;

  static constexpr std::chrono::milliseconds kHeartbeat{1000};
  static constexpr std::chrono::milliseconds kStaleAfter{3 * kHeartbeat};

 private:
  struct Owned {
    uint64_t revision = 0;
    std::string snapshotId;
    uint64_t beat = 0;
    std::chrono::steady_clock::time_point written;
  };
  struct Follower {
    std::string key;
    std::string takeOverSnapshotId;
    std::chrono::steady_clock::time_point deadline;
    OnOutcome onOutcome;
    OnTakeOver onTakeOver;
    OnDeadline onDeadline;
    uint64_t revision = 0;
    std::chrono::steady_clock::time_point changed;
  };

  // The bucket, or null while it is not open or NATS does not answer.
  kvStore* bucket() const { return connected_() ? bucket_.load() : nullptr; }
  std::string valueFor(const std::string& snapshotId, const char* state, uint64_t beat,
                       const Outcome* outcome) const;
  void tick();
  void renew();
  // True when the follower is done (one of its callbacks ran).
  bool poll(Follower& follower);
  bool takeOver(kvStore* kv, Follower& follower, uint64_t revision, bool exists);

  const std::string replica_;
  StreamMetrics& metrics_;
  const std::function<bool()> connected_;
  KvStorePtr owner_;
  std::atomic<kvStore*> bucket_{nullptr};
  std::mutex mutex_;
  std::map<std::string, Owned> owned_;  // by bucket key
  std::vector<Follower> followers_;
  core::PeriodicWorker worker_;
};

}  // namespace podmortem::stream
