#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "podmortem/core/result.h"

namespace podmortem::policy {

// One capture per deletion across replicas: a replica claims the capture key before capturing,
// and the others follow the winner's outcome instead of capturing again. Implemented on a
// shared store (stream/, a JetStream key-value bucket); capture code sees only this.
class CaptureClaims {
 public:
  // What followers answer with: the winner's snapshot and its one-line warning.
  struct Outcome {
    std::string snapshotId;
    std::string phase;  // Complete, Partial, Failed
    bool cutShort = false;
    std::string warning;
  };
  enum class Verdict {
    kWon,          // this replica captures
    kLost,         // another replica does: follow it
    kUnavailable,  // the store cannot say: capture here (a duplicate beats a gap)
  };
  struct Claim {
    Verdict verdict = Verdict::kUnavailable;
    std::string snapshotId;  // the winner's (this replica's own when kWon)
  };
  using OnOutcome = std::function<void(const Outcome&)>;
  using OnTakeOver = std::function<void()>;
  using OnDeadline = std::function<void()>;

  virtual ~CaptureClaims() = default;

  // Claims `key` for this replica under `snapshotId`. Blocks for a round trip to the store: call
  // it off request threads. While the store is reachable but cannot answer (it is electing a
  // leader after a server died) it tries again until `tryUntil`. While this replica holds a
  // claim it is kept fresh (a heartbeat), so that others can tell a winner that died.
  virtual Claim claim(const std::string& key, const std::string& snapshotId,
                      std::chrono::steady_clock::time_point tryUntil) = 0;
  // The winner's outcome, for the followers; ends the heartbeat.
  virtual void release(const std::string& key, const Outcome& outcome) = 0;
  // A follower: exactly one of the callbacks runs, never on the caller's thread: the winner's
  // outcome; or, when the winner stopped renewing its claim, the claim taken over by this
  // replica under `takeOverSnapshotId` (it then captures and releases); or the deadline passing.
  virtual void follow(const std::string& key, const std::string& takeOverSnapshotId,
                      std::chrono::steady_clock::time_point deadline, OnOutcome onOutcome,
                      OnTakeOver onTakeOver, OnDeadline onDeadline) = 0;
};

}  // namespace podmortem::policy
