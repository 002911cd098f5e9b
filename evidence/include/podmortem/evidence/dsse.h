#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/core/result.h"
#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/signer.h"

namespace podmortem::evidence {

// A bundle's (and an addendum's) attestation in the ecosystem's format: an in-toto Statement v1
// (https://in-toto.io/Statement/v1) in a DSSE envelope (github.com/secure-systems-lab/dsse),
// what Sigstore and SLSA verify. Its subjects are every stored artifact and manifest.json, by
// bundle-relative path and SHA-256; its predicate (https://podmortem.io/evidence/v1) repeats the
// manifest's trigger, policy, pod and collector results.

inline constexpr std::string_view kAttestationFileName = "attestation.dsse.json";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kInTotoStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kEvidencePredicateType = "https://podmortem.io/evidence/v1";

// DSSE's pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(body)> <body>", the bytes
// a signature covers.
std::string preAuthEncoding(std::string_view payloadType, std::string_view payload);

struct DsseSignature {
  std::string keyid;
  std::string sig;  // raw bytes
};

struct DsseEnvelope {
  std::string payloadType;
  std::string payload;  // raw bytes (base64 in the JSON form)
  std::vector<DsseSignature> signatures;
};

// Signs PAE(payloadType, payload) with `signer`: one signature, keyid = signer.keyId().
DsseEnvelope signEnvelope(std::string payloadType, std::string payload, const Signer& signer);

// The JSON form: {"payloadType", "payload" (base64), "signatures": [{"keyid", "sig" (base64)}]}.
std::string formatEnvelope(const DsseEnvelope& envelope);
// The error says what is wrong with the text (not JSON, a missing field, bad base64).
core::Result<DsseEnvelope> parseEnvelope(std::string_view text);

// Whether a signature made with `verifier`'s key (keyid matching, or no keyid) verifies over the
// envelope's PAE.
bool verifyEnvelope(const DsseEnvelope& envelope, const SignatureVerifier& verifier);

// The in-toto Statement of a bundle or addendum: `manifestBytes` as written, the records of its
// artifacts (those stored, with a SHA-256, become subjects).
std::string bundleStatement(std::string_view manifestBytes, const std::vector<ArtifactRecord>& artifacts);

}  // namespace podmortem::evidence
