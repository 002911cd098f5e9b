#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podmortem::evidence::sigv4 {

// AWS Signature Version 4 (the S3 store's requests), written by hand over OpenSSL's HMAC: Debian
// has no C++ S3 library, and libs3 signs with the older SigV2. The steps and names follow AWS's
// "Signature Version 4 signing process": canonical request, string to sign, signing key.

struct Credentials {
  std::string accessKeyId;
  std::string secretAccessKey;
  std::string sessionToken;  // temporary credentials; empty: none
};

struct Request {
  std::string method;  // GET, PUT, POST, HEAD, DELETE
  std::string path;    // the URI path, not yet encoded: "/bucket/prefix/a b.json"
  std::vector<std::pair<std::string, std::string>> query;    // not yet encoded
  std::vector<std::pair<std::string, std::string>> headers;  // every header to sign, host included
  std::string payloadSha256;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Signed {
  std::string canonicalRequest;
  std::string stringToSign;
  std::string signature;      // hex
  std::string authorization;  // the Authorization header's value
  std::string signedHeaders;  // "host;x-amz-content-sha256;x-amz-date"
};

// `amzDate`: the request's x-amz-date, YYYYMMDD'T'HHMMSS'Z'.
Signed sign(const Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amzDate);

// Query-string authentication (a pre-signed URL, as S3 documents it): the query parameters that
// let whoever holds the URL send `method` on `path` of `host` for `expiresSeconds` after
// `amzDate`, without credentials of their own; X-Amz-Signature last. Not yet encoded.
std::vector<std::pair<std::string, std::string>> presign(const std::string& method, const std::string& path,
                                                         const std::string& host, const Credentials& credentials,
                                                         std::string_view region, std::string_view amzDate,
                                                         int64_t expiresSeconds);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters as they are, everything
// else %XX in upper case; '/' kept when `keepSlash` (paths), encoded otherwise (query values).
std::string uriEncode(std::string_view text, bool keepSlash);

// HMAC-SHA256, raw bytes.
std::string hmacSha256(std::string_view key, std::string_view data);

}  // namespace podmortem::evidence::sigv4
