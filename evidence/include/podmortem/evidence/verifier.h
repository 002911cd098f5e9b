#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "podmortem/evidence/custody_ledger.h"
#include "podmortem/evidence/signer.h"

namespace podmortem::evidence {

struct VerifyProblem {
  std::string path;  // the file or folder at fault (for the ledger, "custody.jsonl:<line>")
  std::string message;
};

struct VerifyReport {
  std::size_t snapshotsChecked = 0;
  std::size_t addendaChecked = 0;
  std::size_t artifactsChecked = 0;
  // Of those, artifacts no longer on the volume because they were uploaded (uploaded.json,
  // evidence.s3.keepLocal: false): checked only by a verify of the store's copy.
  std::size_t artifactsInStore = 0;
  std::size_t ledgerEntries = 0;
  std::size_t signaturesChecked = 0;
  std::vector<VerifyProblem> problems;
  // Artifacts a Partial or Failed bundle's manifest lists as not captured, with the manifest's
  // reason (a collector failed, the volume was full): what the evidence lacks, not tampering.
  std::vector<VerifyProblem> notCaptured;
  // Things a reader should know that are not problems, e.g. "signatures were not checked".
  std::vector<std::string> notes;
  // SHA-256 of the ledger's last line. The chain protects every line but the last; writing
  // this down elsewhere (a ticket, another system) protects the last one too.
  std::string ledgerHeadSha256;
  // The ledger's lines by seq (SHA-256 of each line's bytes) and its first line's SHA-256 (which
  // ledger it is), for checking it against anchors kept elsewhere (checkAnchors).
  std::map<uint64_t, std::string> ledgerLineSha256;
  std::string ledgerFirstLineSha256;
  std::size_t anchorsChecked = 0;

  bool ok() const { return problems.empty(); }
};

// A ledger line's hash as recorded outside the volume (EvidenceSnapshot.status.custody).
struct LedgerAnchorRecord {
  std::string where;  // "EvidenceSnapshot <ns>/<name>" or "... addendum 2": what anchored it
  LedgerAnchor anchor;
};

// Adds to `report` (of a verifyEvidence run on an evidence folder) a problem for each anchor
// the ledger does not hold: a line removed from its end (truncated), a line that differs
// (rewritten), or another ledger altogether (the volume was replaced or emptied).
void checkAnchors(const std::vector<LedgerAnchorRecord>& anchors, const std::string& ledgerPath,
                  VerifyReport& report);

// `path` is one snapshot folder (it holds manifest.json) or an evidence folder (custody.jsonl
// and <namespace>/<pod>/<id>/ folders). Checks every artifact against its manifest, each
// addendum against the manifest it follows, the manifests against the ledger (for a single
// snapshot, the ledger three folders up if there is one), the ledger's hash chain, the
// signatures when `verifier` is given, and that folders and ledger agree. Reads only inside
// `path`; symlinks are reported, never followed. Does not throw for anything found on disk.
VerifyReport verifyEvidence(const std::string& path, const SignatureVerifier* verifier);

}  // namespace podmortem::evidence
