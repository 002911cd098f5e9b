#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "podmortem/core/config.h"

namespace podmortem::evidence {

// evidence.* of the store: where bundles and the custody ledger go, and how they are signed.
struct StoreSettings {
  std::string dir = "/var/lib/podmortem/evidence";
  std::string signingKeyFile;  // empty: manifests are hashed and chained, not signed
  bool perReplica = false;     // write into <evidence.dir>/<replica>/, own ledger
  enum class Kind { kFile, kS3 };
  Kind store = Kind::kFile;    // s3: sealed bundles are also uploaded (evidence.s3.*)

  static void bind(core::SectionBinder<StoreSettings>& keys);
  core::Status validate() const;
};

// evidence.s3.*: the S3-compatible store sealed bundles are uploaded to (evidence.store: s3).
struct S3Settings {
  std::string endpoint;        // https://s3.<region>.amazonaws.com, or a MinIO/Ceph URL
  std::string bucket;
  std::string prefix;          // key prefix, e.g. "podmortem"; empty: the bucket's root
  std::string region = "us-east-1";
  std::string credentialsFile;  // AWS shared credentials file; empty: AWS_* variables
  bool pathStyle = true;       // https://host/bucket/key (MinIO, Ceph); false: bucket.host
  std::string caFile;          // empty: the system's CAs
  std::string objectLock;      // "", GOVERNANCE or COMPLIANCE
  std::chrono::milliseconds retention{std::chrono::hours(24 * 365)};  // lock period per object
  uint64_t multipartThreshold = uint64_t{16} << 20;  // larger files go up in parts
  uint64_t partSize = uint64_t{8} << 20;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // one request
  std::chrono::milliseconds maxBackoff{std::chrono::minutes(5)};
  // false: once a bundle is confirmed in the store, its artifacts leave the volume; manifest.json,
  // the attestation and uploaded.json (where it went) stay, so the ledger and verify still work.
  bool keepLocal = true;

  static void bind(core::SectionBinder<S3Settings>& keys);
  core::Status validate() const;
};

}  // namespace podmortem::evidence
