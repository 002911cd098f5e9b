#pragma once

#include <cstddef>
#include <string>
#include <vector>

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

  bool ok() const { return problems.empty(); }
};

// `path` is one snapshot folder (it holds manifest.json) or an evidence folder (custody.jsonl
// and <namespace>/<pod>/<id>/ folders). Checks every artifact against its manifest, each
// addendum against the manifest it follows, the manifests against the ledger (for a single
// snapshot, the ledger three folders up if there is one), the ledger's hash chain, the
// signatures when `verifier` is given, and that folders and ledger agree. Reads only inside
// `path`; symlinks are reported, never followed. Does not throw for anything found on disk.
VerifyReport verifyEvidence(const std::string& path, const SignatureVerifier* verifier);

}  // namespace podmortem::evidence
