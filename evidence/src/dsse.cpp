#include "podmortem/evidence/dsse.h"

#include "podmortem/core/base64.h"
#include "podmortem/core/sha256.h"
#include "podmortem/evidence/store.h"

namespace podmortem::evidence {

using nlohmann::json;

std::string preAuthEncoding(std::string_view payloadType, std::string_view payload) {
  std::string encoded = "DSSEv1 " + std::to_string(payloadType.size()) + " ";
  encoded += payloadType;
  encoded += " " + std::to_string(payload.size()) + " ";
  encoded += payload;
  return encoded;
}

DsseEnvelope signEnvelope(std::string payloadType, std::string payload, const Signer& signer) {
  DsseEnvelope envelope{std::move(payloadType), std::move(payload), {}};
  envelope.signatures.push_back(
      {signer.keyId(), signer.sign(preAuthEncoding(envelope.payloadType, envelope.payload))});
  return envelope;
}

std::string formatEnvelope(const DsseEnvelope& envelope) {
  json signatures = json::array();
  for (const auto& signature : envelope.signatures) {
    signatures.push_back({{"keyid", signature.keyid}, {"sig", core::base64Encode(signature.sig)}});
  }
  json out = {{"payloadType", envelope.payloadType},
              {"payload", core::base64Encode(envelope.payload)},
              {"signatures", std::move(signatures)}};
  return out.dump(2) + "\n";
}

core::Result<DsseEnvelope> parseEnvelope(std::string_view text) {
  auto invalid = [](const std::string& why) {
    return core::makeError(core::ErrorCode::kInvalidArgument, "DSSE envelope: " + why);
  };
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_object()) return invalid("not a JSON object");
  if (!parsed["payloadType"].is_string() || !parsed["payload"].is_string() ||
      !parsed["signatures"].is_array()) {
    return invalid("needs string payloadType and payload, and a signatures list");
  }
  DsseEnvelope envelope;
  envelope.payloadType = parsed["payloadType"].get<std::string>();
  if (!core::base64Decode(parsed["payload"].get<std::string>(), envelope.payload)) {
    return invalid("payload is not base64");
  }
  for (auto item : parsed["signatures"]) {  // a copy: operator[] of a const json asserts on a missing key
    if (!item.is_object() || !item["sig"].is_string()) return invalid("a signature without sig");
    DsseSignature signature;
    if (item.contains("keyid")) {
      if (!item["keyid"].is_string()) return invalid("a keyid that is not a string");
      signature.keyid = item["keyid"].get<std::string>();
    }
    if (!core::base64Decode(item["sig"].get<std::string>(), signature.sig)) {
      return invalid("a sig that is not base64");
    }
    envelope.signatures.push_back(std::move(signature));
  }
  return envelope;
}

bool verifyEnvelope(const DsseEnvelope& envelope, const SignatureVerifier& verifier) {
  std::string signed_ = preAuthEncoding(envelope.payloadType, envelope.payload);
  for (const auto& signature : envelope.signatures) {
    if (!signature.keyid.empty() && signature.keyid != verifier.keyId()) continue;
    if (verifier.verify(signed_, signature.sig)) return true;
  }
  return false;
}

std::string bundleStatement(std::string_view manifestBytes, const std::vector<ArtifactRecord>& artifacts) {
  json subjects = json::array();
  subjects.push_back({{"name", std::string(kManifestFileName)},
                      {"digest", {{"sha256", core::sha256Hex(manifestBytes)}}}});
  json collectors = json::array();
  for (const auto& artifact : artifacts) {
    json result = {{"path", artifact.path}, {"collector", artifact.collector}};
    if (!artifact.error.empty()) result["error"] = artifact.error;
    collectors.push_back(std::move(result));
    if (artifact.sha256.empty()) continue;  // not stored: nothing to attest
    subjects.push_back({{"name", artifact.path}, {"digest", {{"sha256", artifact.sha256}}}});
  }
  json manifest = json::parse(manifestBytes, nullptr, false);
  json predicate = {{"collectors", std::move(collectors)}};
  if (manifest.is_object()) {
    for (const char* key : {"kind", "snapshotId", "sequence", "parentManifestSha256", "phase",
                            "policy", "trigger", "pod", "createdAt"}) {
      if (manifest.contains(key)) predicate[key] = manifest[key];
    }
  }
  json statement = {{"_type", std::string(kInTotoStatementType)},
                    {"subject", std::move(subjects)},
                    {"predicateType", std::string(kEvidencePredicateType)},
                    {"predicate", std::move(predicate)}};
  return statement.dump();
}

}  // namespace podmortem::evidence
