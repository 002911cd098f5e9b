#include "podmortem/evidence/settings.h"

namespace podmortem::evidence {

void StoreSettings::bind(core::SectionBinder<StoreSettings>& keys) {
  keys.path("dir", &StoreSettings::dir,
            "folder evidence bundles and the custody ledger are written to");
  keys.path("signingKeyFile", &StoreSettings::signingKeyFile,
            "Ed25519 or ECDSA P-256 private key (PEM), or an HMAC secret, that signs each "
            "bundle's attestation (attestation.dsse.json)")
      .whenUnset("manifests are hashed and chained, not signed");
  keys.flag("perReplica", &StoreSettings::perReplica,
            "write into <evidence.dir>/<kubernetes.podName>/ with its own ledger, so replicas "
            "can share one volume");
}

core::Status StoreSettings::validate() const {
  if (dir.empty()) {
    return core::makeError(core::ErrorCode::kInvalidArgument, "evidence.dir must not be empty");
  }
  return {};
}

}  // namespace podmortem::evidence
