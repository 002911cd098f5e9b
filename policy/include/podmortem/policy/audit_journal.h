#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "podmortem/core/result.h"

namespace podmortem::policy {

// Where accepted audit records go before they are indexed. Alone, a replica indexes what it
// received (the local journal); with several replicas, a stream they all read (stream/), so
// that every replica's correlation window holds every record, whoever received it. Capture and
// policy code see only this and the window's CorrelationQuery.
class AuditJournal {
 public:
  enum class Kind {
    kAuditBatch,      // a body POSTed to /audit: an EventList, an Event, a list, JSON lines
    kAdmissionEvent,  // an audit Event podmortem wrote for an admission CONNECT (exec, attach)
  };
  // Runs once, on the caller's thread or later on another: the record is stored (every replica
  // will index it), or why not (kUnavailable, kResourceExhausted: the caller should be told to
  // retry). It must not block.
  using Stored = std::function<void(core::Status)>;

  virtual ~AuditJournal() = default;
  virtual void append(Kind kind, std::string body, Stored stored) = 0;

  // The largest record append() takes (a stream's message size limit); 0: no limit. A larger
  // audit batch is split by the caller into EventLists of whole events.
  virtual size_t maxRecordBytes() const { return 0; }

  // How far this replica's index is behind what the journal holds.
  struct Progress {
    bool caughtUp = true;          // indexed what the journal held when it started reading
    uint64_t pendingMessages = 0;  // stored but not yet indexed here
    // Non-empty when the window may lack events other replicas received (the stream cannot be
    // reached): said in every audit trail captured meanwhile.
    std::string gap;
  };
  virtual Progress progress() const = 0;
};

}  // namespace podmortem::policy
