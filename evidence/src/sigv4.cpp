#include "sigv4.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "podmortem/core/sha256.h"

namespace podmortem::evidence::sigv4 {

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header value as SigV4 canonicalizes it: no leading or trailing spaces, inner runs of spaces
// made one.
std::string trimmed(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string uriEncode(std::string_view text, bool keepSlash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out,
                &size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<char*>(out), size);
}

Signed sign(const Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amzDate) {
  Signed out;
  // Query: each name and value encoded, sorted by name (then value).
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : request.query) query.emplace_back(uriEncode(name, false), uriEncode(value, false));
  std::sort(query.begin(), query.end());
  std::string canonicalQuery;
  for (const auto& [name, value] : query) {
    canonicalQuery += (canonicalQuery.empty() ? "" : "&") + name + "=" + value;
  }
  // Headers: lower-case names, trimmed values, sorted; the same name twice joined by commas.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) headers.emplace_back(lower(name), trimmed(value));
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonicalHeaders;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonicalHeaders.pop_back();  // the newline
      canonicalHeaders += "," + headers[i].second + "\n";
      continue;
    }
    canonicalHeaders += headers[i].first + ":" + headers[i].second + "\n";
    out.signedHeaders += (out.signedHeaders.empty() ? "" : ";") + headers[i].first;
  }
  out.canonicalRequest = request.method + "\n" + uriEncode(request.path, true) + "\n" + canonicalQuery + "\n" +
                         canonicalHeaders + "\n" + out.signedHeaders + "\n" + request.payloadSha256;

  std::string date(amzDate.substr(0, 8));
  std::string scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.stringToSign = "AWS4-HMAC-SHA256\n" + std::string(amzDate) + "\n" + scope + "\n" +
                     core::sha256Hex(out.canonicalRequest);
  std::string key = hmacSha256("AWS4" + credentials.secretAccessKey, date);
  key = hmacSha256(key, region);
  key = hmacSha256(key, service);
  key = hmacSha256(key, "aws4_request");
  out.signature = hex(hmacSha256(key, out.stringToSign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyId + "/" + scope +
                      ", SignedHeaders=" + out.signedHeaders + ", Signature=" + out.signature;
  return out;
}

std::vector<std::pair<std::string, std::string>> presign(const std::string& method, const std::string& path,
                                                         const std::string& host, const Credentials& credentials,
                                                         std::string_view region, std::string_view amzDate,
                                                         int64_t expiresSeconds) {
  const std::string scope = std::string(amzDate.substr(0, 8)) + "/" + std::string(region) + "/s3/aws4_request";
  Request request;
  request.method = method;
  request.path = path;
  request.query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                   {"X-Amz-Credential", credentials.accessKeyId + "/" + scope},
                   {"X-Amz-Date", std::string(amzDate)},
                   {"X-Amz-Expires", std::to_string(expiresSeconds)},
                   {"X-Amz-SignedHeaders", "host"}};
  if (!credentials.sessionToken.empty()) request.query.emplace_back("X-Amz-Security-Token", credentials.sessionToken);
  request.headers = {{"host", host}};
  request.payloadSha256 = "UNSIGNED-PAYLOAD";
  auto signed_ = sign(request, credentials, region, "s3", amzDate);
  auto query = request.query;
  query.emplace_back("X-Amz-Signature", signed_.signature);
  return query;
}

}  // namespace podmortem::evidence::sigv4
