#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "podmortem/core/result.h"
#include "podmortem/evidence/custody_ledger.h"
#include "podmortem/evidence/settings.h"

namespace podmortem::evidence {

// A sealed bundle or addendum, to be uploaded.
struct SealedEvidence {
  std::string snapshotId;
  std::string dir;       // its folder on the volume
  std::string relative;  // "<namespace>/<pod>/<id>" or ".../addenda/<n>": its key below the prefix
  LedgerAnchor custody;  // its custody-ledger line
  std::string ledgerLine;  // that line's bytes
};

// Uploads sealed evidence to an S3-compatible store (evidence.store: s3) from a durable queue on
// the volume: a restart or an outage of the store delays uploads, never loses them. Every object
// is written once: its key carries the snapshot id, an object already there with the same
// SHA-256 (x-amz-meta-sha256) counts as uploaded, one with other content is never overwritten.
// Each PUT carries Content-MD5 and x-amz-checksum-sha256, and with evidence.s3.objectLock the
// Object Lock mode and retain-until date. Artifacts go first, then manifest.json, then the
// attestation, then the ledger line (<prefix>/ledger/<ledger id>/<seq>); each is confirmed with a
// HEAD before the next. The local copy stays.
class S3Uploads {
 public:
  struct Options {
    S3Settings settings;
    std::string queueDir;
    // Told once a bundle is wholly in the store, with its s3:// URL (the EvidenceSnapshot's
    // location). Runs on the upload worker.
    std::function<void(const std::string& snapshotId, const std::string& relative, const std::string& url)>
        onUploaded;
  };

  struct State {
    size_t pending = 0;
    double oldestPendingSeconds = 0;
    uint64_t uploaded = 0;  // bundles and addenda wholly uploaded
    uint64_t objects = 0;   // objects written
    uint64_t bytes = 0;
    uint64_t failures = 0;  // attempts that failed (retried)
    uint64_t conflicts = 0; // objects found in the store with other content (never overwritten)
    std::string lastError;  // empty once an upload went through
  };

  // Throws std::runtime_error when the credentials or the queue folder cannot be had.
  explicit S3Uploads(Options options);
  ~S3Uploads();  // stops the worker; what is queued stays queued

  // Queues `sealed` durably (fsync'd) and wakes the worker.
  core::Status enqueue(const SealedEvidence& sealed);
  State state() const;
  // s3://<bucket>/<prefix>/<relative>
  std::string urlOf(const std::string& relative) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::evidence
