#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "podmortem/core/result.h"

namespace podmortem::evidence {

// The custody ledger, <evidence.dir>/custody.jsonl: one compact JSON line per stored snapshot,
// each carrying the SHA-256 of the previous line's exact bytes, so that editing, removing or
// reordering a line (or the bundle it names) breaks the chain that `podmortem verify` walks.

inline constexpr std::string_view kCustodyLedgerFileName = "custody.jsonl";
inline constexpr std::string_view kGenesisPrevSha256 =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct LedgerEntry {
  uint64_t seq = 0;  // 1-based, no gaps
  std::string time;
  std::string snapshotId;
  std::string bundle;  // "<namespace>/<pod>/<snapshot-id>", relative to the evidence folder
  std::string manifestSha256;
  std::string prevSha256;
};

// What anchors a ledger line outside the volume (EvidenceSnapshot.status.custody): `podmortem
// verify --against-cluster` finds a removed last line or a replaced volume by it.
struct LedgerAnchor {
  std::string ledgerId;  // SHA-256 of the ledger's first line: which ledger
  uint64_t seq = 0;
  std::string entrySha256;  // SHA-256 of the line's exact bytes (without the newline)
  std::string prevSha256;
};

// One line, without the trailing newline.
std::string formatLedgerLine(const LedgerEntry& entry);
// False when the line is not a ledger entry (bad JSON, a missing or mistyped field).
bool parseLedgerLine(std::string_view line, LedgerEntry& entry);

class CustodyLedger {
 public:
  // Opens or creates the file (0600) and reads its end to continue seq and prevSha256.
  // Throws std::runtime_error naming the file when it cannot be opened or read: start-up only.
  explicit CustodyLedger(std::string path);
  ~CustodyLedger();
  CustodyLedger(const CustodyLedger&) = delete;
  CustodyLedger& operator=(const CustodyLedger&) = delete;

  // Appends and fsyncs one line. Thread-safe, and safe against another process appending to the
  // same file (an exclusive flock is held while appending). On failure the file is cut back so
  // that no torn line is left behind.
  core::Status append(std::string_view snapshotId, std::string_view bundle,
                      std::string_view manifestSha256, std::chrono::system_clock::time_point time,
                      LedgerEntry* appended = nullptr, LedgerAnchor* anchor = nullptr);

  const std::string& path() const { return path_; }

 private:
  // Re-reads the end of the file; needed at start and whenever another writer appended.
  core::Status recoverTail();
  core::Result<std::string> readFirstLineSha256() const;

  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  uint64_t nextSeq_ = 1;
  std::string prevSha256_;
  std::string firstLineSha256_;  // empty until the ledger has a line
  uint64_t knownSize_ = 0;
};

}  // namespace podmortem::evidence
