#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/policy.h"

namespace podmortem::policy {

// What the snapshot code asks of recent audit history. Kept small so that a multi-replica
// deployment can answer it from peers or a shared stream without touching capture or policy
// code (DESIGN.md).
class CorrelationQuery {
 public:
  virtual ~CorrelationQuery() = default;

  struct Trail {
    std::vector<std::string> rawEvents;  // as received, in time order, each once
    size_t podEvents = 0;                // events on the pod itself
    size_t userEvents = 0;               // further events of the users who acted on the pod
    int64_t windowStartMicros = 0;
    int64_t windowEndMicros = 0;
    // How many events the window had indexed when the trail was taken: an event indexed later
    // (its ordinal, CorrelationWindow::indexedTotal() just after it was added, is greater) is
    // not in this trail. 0 when the source does not count.
    uint64_t indexedThrough = 0;
  };

  // The window's events for the pod (subresources included) plus the events of every user who
  // acted on it, since `since`.
  virtual Trail trailForPod(std::string_view namespaceName, std::string_view podName,
                            std::chrono::system_clock::time_point since) const = 0;

  // Whether audit activity matching `requirement` happened on the pod since `since`.
  virtual bool hasActivity(std::string_view namespaceName, std::string_view podName,
                           const AuditRequirement& requirement,
                           std::chrono::system_clock::time_point since) const = 0;
};

// The in-memory correlation window: recent audit events indexed by pod (namespace/name), by user
// and by source IP, bounded by age and by count (oldest evicted first). Thread-safe: one writer
// (the ingest worker) and any number of readers.
class CorrelationWindow final : public CorrelationQuery {
 public:
  struct Options {
    std::chrono::milliseconds window{std::chrono::minutes(30)};
    size_t maxEvents = 1'000'000;
    // Raw events are 1-3 KB, too many to keep resident at a million: when set, they go to
    // append-only segment files in this folder (0700, files 0600, since audit events are
    // sensitive) and only a compact index stays in memory. Empty: raw bytes stay in memory.
    // Segment files from an earlier process are deleted at construction.
    std::string spoolDir;
    uint64_t segmentBytes = 64ull << 20;  // a segment is deleted once all its events are gone
  };

  enum class AddResult { kIndexed, kDuplicate };

  explicit CorrelationWindow(Options options);
  ~CorrelationWindow() override;

  // Indexes one event, unless the same auditID + stage was seen (retries, several API
  // servers). `now` drives age-based eviction (an injected clock for tests).
  AddResult add(AuditEvent event, std::chrono::system_clock::time_point now);
  // The same, with the raw bytes apart (e.g. a view into the request body): the caller keeps
  // `event` for what comes next, and neither it nor the bytes are copied more than once.
  AddResult add(const AuditEvent& event, std::string_view raw,
                std::chrono::system_clock::time_point now);

  // Drops events older than the window.
  void expire(std::chrono::system_clock::time_point now);

  size_t size() const;
  uint64_t evictions() const;  // events dropped for age or count, since start
  uint64_t indexedTotal() const;  // events indexed since start (duplicates not counted)

  // Events of one user / one source IP since `since`, raw, in time order.
  std::vector<std::string> eventsForUser(std::string_view userName,
                                         std::chrono::system_clock::time_point since) const;
  std::vector<std::string> eventsForSourceIp(std::string_view sourceIp,
                                             std::chrono::system_clock::time_point since) const;

  Trail trailForPod(std::string_view namespaceName, std::string_view podName,
                    std::chrono::system_clock::time_point since) const override;
  bool hasActivity(std::string_view namespaceName, std::string_view podName,
                   const AuditRequirement& requirement,
                   std::chrono::system_clock::time_point since) const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::policy
