#include "podmortem/evidence/settings.h"

namespace podmortem::evidence {

void StoreSettings::bind(core::SectionBinder<StoreSettings>& keys) {
  keys.path("dir", &StoreSettings::dir,
            "folder evidence bundles and the custody ledger are written to");
  keys.path("signingKeyFile", &StoreSettings::signingKeyFile,
            "Ed25519 or ECDSA P-256 private key (PEM), or an HMAC secret, that signs each "
            "bundle's attestation (attestation.dsse.json)")
      .whenUnset("manifests are hashed and chained, not signed");
  keys.choice("store", &StoreSettings::store,
              {{"file", StoreSettings::Kind::kFile}, {"s3", StoreSettings::Kind::kS3}},
              "file: bundles stay on the evidence volume; s3: each sealed bundle is also "
              "uploaded to evidence.s3 (written once, checksummed, Object Lock)");
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

void S3Settings::bind(core::SectionBinder<S3Settings>& keys) {
  keys.text("endpoint", &S3Settings::endpoint, "the store's URL: https://s3.<region>.amazonaws.com, MinIO, Ceph");
  keys.text("bucket", &S3Settings::bucket, "the bucket (with Object Lock enabled, for objectLock)");
  keys.text("prefix", &S3Settings::prefix, "key prefix of podmortem's objects")
      .whenUnset("the bucket's root");
  keys.text("region", &S3Settings::region, "the region requests are signed for (SigV4)");
  keys.path("credentialsFile", &S3Settings::credentialsFile,
            "AWS shared credentials file ([default] aws_access_key_id, aws_secret_access_key)")
      .whenUnset("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN");
  keys.flag("pathStyle", &S3Settings::pathStyle,
            "path-style URLs (https://host/bucket/key); false: virtual-host (bucket.host)");
  keys.path("caFile", &S3Settings::caFile, "CA bundle the store's certificate must chain to")
      .whenUnset("the system's CAs");
  keys.choice("objectLock", &S3Settings::objectLock,
              {{"", std::string()}, {"GOVERNANCE", std::string("GOVERNANCE")},
               {"COMPLIANCE", std::string("COMPLIANCE")}},
              "S3 Object Lock mode of every object: GOVERNANCE or COMPLIANCE (WORM)");
  keys.duration("retention", &S3Settings::retention, "how long each object is locked");
  keys.integer("multipartThreshold", &S3Settings::multipartThreshold, 5 << 20, uint64_t{5} << 30,
               "files larger than this go up in parts (multipart upload), in bytes");
  keys.integer("partSize", &S3Settings::partSize, 5 << 20, uint64_t{5} << 30,
               "the size of each part, in bytes");
  keys.duration("timeout", &S3Settings::timeout, "how long one request may take");
  keys.duration("maxBackoff", &S3Settings::maxBackoff, "longest wait between two attempts of an upload");
  keys.flag("keepLocal", &S3Settings::keepLocal,
            "keep the artifacts on the volume once uploaded; false: only manifest.json, the attestation "
            "and uploaded.json stay");
}

core::Status S3Settings::validate() const {
  if (endpoint.empty() && bucket.empty()) return {};  // not used (evidence.store: file)
  auto invalid = [](const std::string& why) {
    return core::makeError(core::ErrorCode::kInvalidArgument, "evidence.s3: " + why);
  };
  if (endpoint.rfind("https://", 0) != 0 && endpoint.rfind("http://", 0) != 0) {
    return invalid("endpoint must be an https:// (or http://) URL");
  }
  if (bucket.empty()) return invalid("bucket is required");
  if (prefix.find("//") != std::string::npos || (!prefix.empty() && (prefix.front() == '/' || prefix.back() == '/'))) {
    return invalid("prefix must not start or end with / nor hold //");
  }
  return {};
}

}  // namespace podmortem::evidence
