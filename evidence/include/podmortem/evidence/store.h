#pragma once

#include <functional>

#include <memory>
#include <mutex>
#include <string>

#include "podmortem/core/result.h"
#include "podmortem/evidence/addendum.h"
#include "podmortem/evidence/s3_uploads.h"
#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/custody_ledger.h"
#include "podmortem/evidence/signer.h"

namespace podmortem::evidence {

// Where snapshots go. A seam for tests of the snapshot manager and for object-storage backends.
class Store {
 public:
  virtual ~Store() = default;
  // Never throws for I/O errors or bad content: the result says Failed and why.
  virtual WriteResult write(const SnapshotContent& content) = 0;
  // Seals an addendum to a snapshot this store wrote (see addendum.h). Never throws.
  virtual core::Result<AddendumRecord> addAddendum(const AddendumContent& content) {
    (void)content;
    return core::makeError(core::ErrorCode::kInvalidArgument, "this store takes no addenda");
  }
};

inline constexpr std::string_view kManifestFileName = "manifest.json";
inline constexpr std::string_view kSignatureFileName = "manifest.json.sig";
inline constexpr std::string_view kTempPrefix = ".tmp-";
// Written into a bundle (or addendum) whose artifacts were removed from the volume after they were
// confirmed in the S3 store (evidence.s3.keepLocal: false): where they are, and which ones.
inline constexpr std::string_view kUploadedFileName = "uploaded.json";

// Bundles in <evidenceDir>/<namespace>/<pod>/<snapshot-id>/, written under .tmp-<id> beside the
// final name, fsync'd and renamed into place, then recorded in <evidenceDir>/custody.jsonl. On a
// full volume a bundle keeps the artifacts that fitted (Partial, each missing one says why).
// At construction, what a crash interrupted is set right: temporary folders go to
// <evidenceDir>/.quarantine/, sealed bundles the ledger does not name are recorded.
class FileStore final : public Store {
 public:
  // Creates evidenceDir (0700) if missing and opens the custody ledger; throws
  // std::runtime_error naming the folder or file when that fails. `signer` may be null.
  FileStore(std::string evidenceDir, std::unique_ptr<Signer> signer);

  // Thread-safe; concurrent writes of different snapshots proceed in parallel.
  WriteResult write(const SnapshotContent& content) override;
  // Written like a bundle (temporary name, fsync, rename), then recorded in the ledger.
  core::Result<AddendumRecord> addAddendum(const AddendumContent& content) override;

  // Told of every bundle and addendum once it is sealed and in the ledger (the S3 uploads), on
  // the writer's thread. Set before the first write.
  void onSealed(std::function<void(const SealedEvidence&)> sealed) { onSealed_ = std::move(sealed); }

 private:
  std::string evidenceDir_;
  std::unique_ptr<Signer> signer_;
  std::function<void(const SealedEvidence&)> onSealed_;
  CustodyLedger ledger_;
  std::mutex addendaMutex_;  // one addendum at a time: each names the one before it
};

}  // namespace podmortem::evidence
