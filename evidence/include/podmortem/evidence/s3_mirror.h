#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "podmortem/core/result.h"
#include "podmortem/evidence/settings.h"
#include "podmortem/evidence/verifier.h"

namespace podmortem::evidence {

// For `podmortem verify s3://...`: copies what the URL names from the store into `into`, laid
// out as on the evidence volume, with the custody ledger rebuilt from the store's ledger objects
// (<prefix>/ledger/<ledger id>/<seq>): s3://<bucket>/<prefix>/<ns>/<pod>/<id> gives that bundle
// with its addenda and <into>/custody.jsonl (the ledger that records it), to verify as one
// snapshot; s3://<bucket>/<prefix> gives every bundle and the ledger, when there is one. Returns
// the folder to verify, or why not (the store unreachable, credentials refused, nothing there).
core::Result<std::string> mirrorFromS3(const std::string& url, const S3Settings& settings,
                                       const std::string& into);

// The custody-ledger lines the store holds (<prefix>/ledger/<ledger id>/<seq>) as anchors, for
// checkAnchors: a local ledger whose last lines were removed, or a volume replaced, shows against
// them as against the EvidenceSnapshots' (`podmortem verify --against-s3`). `ledgerId`: the
// local ledger's; lines of other ledgers (other replicas) are left out, unless the store holds
// none of the local ledger's, when all are returned (the volume was replaced).
core::Result<std::vector<LedgerAnchorRecord>> anchorsFromS3(const S3Settings& settings,
                                                            const std::string& ledgerId);

// Pre-signed GET URLs (query-string SigV4) of a bundle's files in the store, for an
// EvidenceDownload: `url` is the bundle's s3://<bucket>/<prefix>/<ns>/<pod>/<id>, `paths` are
// bundle-relative; each URL works without credentials for `ttl`. Returns (path, URL) pairs, or
// why not (no credentials, a URL that is not s3://).
core::Result<std::vector<std::pair<std::string, std::string>>> presignBundle(const S3Settings& settings,
                                                                            const std::string& url,
                                                                            const std::vector<std::string>& paths,
                                                                            std::chrono::seconds ttl);

}  // namespace podmortem::evidence
