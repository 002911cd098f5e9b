#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "podmortem/evidence/settings.h"
#include "sigv4.h"

namespace podmortem::evidence {

// Where an S3-compatible store is and who we are to it.
struct S3Endpoint {
  std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string bucket;
  std::string region = "us-east-1";
  bool pathStyle = true;  // https://host/bucket/key; false: https://bucket.host/key
  std::string caFile;     // empty: the system's CAs
  sigv4::Credentials credentials;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct S3Answer {
  int status = 0;        // 0: no answer (connect, TLS, timeout)
  std::string body;      // the body, or for errors the first KiB of it
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;     // why there was no answer
  std::string code;      // S3's error Code (SignatureDoesNotMatch, NoSuchKey, ...) when there is one

  bool ok() const { return status >= 200 && status < 300; }
  // "403 SignatureDoesNotMatch" or the transport error: one line, no credentials.
  std::string describe() const;
};

// The few S3 calls the evidence store needs, signed with SigV4, over cpprestsdk. Keys are
// bucket-relative ("evidence/shop/web-0/<id>/manifest.json"), not encoded. Thread-safe.
class S3Client {
 public:
  explicit S3Client(S3Endpoint endpoint);
  ~S3Client();

  S3Answer put(const std::string& key, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  S3Answer head(const std::string& key);
  S3Answer get(const std::string& key);
  // ListObjectsV2 of one page: the keys, and the continuation token ("" at the end).
  S3Answer list(const std::string& prefix, const std::string& continuation,
                std::vector<std::string>& keys, std::string& next);
  // Multipart: the upload id, the parts' ETags, the whole.
  S3Answer createMultipart(const std::string& key,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           std::string& uploadId);
  S3Answer uploadPart(const std::string& key, const std::string& uploadId, int partNumber,
                      const std::string& body, std::string& etag);
  S3Answer completeMultipart(const std::string& key, const std::string& uploadId,
                             const std::vector<std::string>& etags);
  S3Answer abortMultipart(const std::string& key, const std::string& uploadId);

  // s3://<bucket>/<key>
  std::string url(const std::string& key) const;
  // An https:// (or http://) URL that GETs `key` without credentials until `seconds` from now.
  std::string presignGet(const std::string& key, int64_t seconds) const;
  const S3Endpoint& endpoint() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Credentials from an AWS shared credentials file ([default] aws_access_key_id,
// aws_secret_access_key, aws_session_token), else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN. Throws std::runtime_error naming the file (never a key) when neither gives
// a key pair.
sigv4::Credentials loadCredentials(const std::string& file);

// The endpoint evidence.s3.* describes, for `bucket`, with its credentials (loadCredentials:
// throws when there are none).
S3Endpoint endpointFor(const S3Settings& settings, const std::string& bucket);

// The text of every element called `name`, at any depth, in an S3 XML answer (Boost.PropertyTree
// parses it); empty when the text is not XML.
std::vector<std::string> xmlValues(const std::string& xml, const std::string& name);

}  // namespace podmortem::evidence
