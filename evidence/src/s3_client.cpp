#include "s3_client.h"

#include <cpprest/http_client.h>
#include <openssl/ssl.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "podmortem/core/sha256.h"

namespace podmortem::evidence {

namespace http = web::http;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {

constexpr size_t kKeptErrorBody = 1024;

std::string amzDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

void collect(const boost::property_tree::ptree& tree, const std::string& name,
             std::vector<std::string>& out) {
  for (const auto& [child, subtree] : tree) {
    if (child == name) out.push_back(subtree.get_value<std::string>());
    collect(subtree, name, out);
  }
}

std::string trim(std::string text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::vector<std::string> xmlValues(const std::string& xml, const std::string& name) {
  std::vector<std::string> out;
  try {
    std::istringstream in(xml);
    boost::property_tree::ptree tree;
    boost::property_tree::read_xml(in, tree);
    collect(tree, name, out);
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

std::string S3Answer::describe() const {
  if (status == 0) return error;
  return std::to_string(status) + (code.empty() ? "" : " " + code);
}

class S3Client::Impl {
 public:
  explicit Impl(S3Endpoint endpoint) : endpoint_(std::move(endpoint)) {
    web::uri base(endpoint_.endpoint);
    scheme_ = base.scheme();
    host_ = endpoint_.pathStyle ? base.host() : endpoint_.bucket + "." + base.host();
    bool defaultPort = base.port() <= 0 || (scheme_ == "https" && base.port() == 443) ||
                       (scheme_ == "http" && base.port() == 80);
    hostHeader_ = host_ + (defaultPort ? "" : ":" + std::to_string(base.port()));
    http::client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(endpoint_.timeout));
    config.set_max_redirects(0);
    config.set_validate_certificates(true);
    std::string caFile = endpoint_.caFile;
    config.set_ssl_context_callback([caFile](boost::asio::ssl::context& context) {
      SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
      if (!caFile.empty()) {
        SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());  // only this CA
        context.load_verify_file(caFile);
      }
    });
    client_ = std::make_unique<http::client::http_client>(web::uri(scheme_ + "://" + hostHeader_), config);
  }

  std::string presignGet(const std::string& key, int64_t seconds) const {
    std::string path = endpoint_.pathStyle ? "/" + endpoint_.bucket + "/" + key : "/" + key;
    auto query = sigv4::presign("GET", path, hostHeader_, endpoint_.credentials, endpoint_.region, amzDateNow(), seconds);
    std::string url = scheme_ + "://" + hostHeader_ + sigv4::uriEncode(path, true);
    for (const auto& [name, value] : query) {
      url += (url.find('?') == std::string::npos ? "?" : "&") + sigv4::uriEncode(name, false) + "=" +
             sigv4::uriEncode(value, false);
    }
    return url;
  }

  // One signed request. `path` is the bucket-relative key ("" for the bucket itself).
  S3Answer send(const std::string& method, const std::string& key,
                const std::vector<std::pair<std::string, std::string>>& query, const std::string& body,
                const Headers& extra) {
    S3Answer answer;
    std::string path = !endpoint_.pathStyle ? "/" + key : key.empty() ? "/" + endpoint_.bucket
                                                                      : "/" + endpoint_.bucket + "/" + key;
    sigv4::Request request;
    request.method = method;
    request.path = path;
    request.query = query;
    request.payloadSha256 = core::sha256Hex(body);
    std::string amzDate = amzDateNow();
    request.headers = {{"host", hostHeader_},
                       {"x-amz-content-sha256", request.payloadSha256},
                       {"x-amz-date", amzDate}};
    if (!endpoint_.credentials.sessionToken.empty()) {
      request.headers.emplace_back("x-amz-security-token", endpoint_.credentials.sessionToken);
    }
    for (const auto& header : extra) request.headers.push_back(header);
    auto signed_ = sigv4::sign(request, endpoint_.credentials, endpoint_.region, "s3", amzDate);

    std::string target = sigv4::uriEncode(path, true);
    std::string encodedQuery;
    for (const auto& [name, value] : query) {
      encodedQuery += (encodedQuery.empty() ? "?" : "&") + sigv4::uriEncode(name, false) + "=" +
                      sigv4::uriEncode(value, false);
    }
    try {
      http::http_request message(method);
      message.set_request_uri(web::uri(target + encodedQuery));
      for (const auto& [name, value] : request.headers) {
        if (name != "host") message.headers().add(name, value);
      }
      message.headers().add("Authorization", signed_.authorization);
      if (!body.empty() || method == "PUT" || method == "POST") {
        message.set_body(std::vector<unsigned char>(body.begin(), body.end()));
        message.headers().set_content_type("application/octet-stream");
      }
      http::http_response response = client_->request(message).get();
      answer.status = response.status_code();
      for (const auto& [name, value] : response.headers()) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        answer.headers[lower] = value;
      }
      if (method != "HEAD") {
        auto bytes = response.extract_vector().get();
        answer.body.assign(bytes.begin(), bytes.end());
      }
      if (!answer.ok()) {
        auto codes = xmlValues(answer.body, "Code");
        if (!codes.empty()) answer.code = codes.front();
        if (answer.code.empty() && answer.status == 404) answer.code = "NotFound";
        if (answer.body.size() > kKeptErrorBody) answer.body.resize(kKeptErrorBody);
      }
    } catch (const std::exception& error) {
      answer.status = 0;
      answer.error = method + " " + scheme_ + "://" + hostHeader_ + target + ": " + error.what();
    }
    return answer;
  }

  const S3Endpoint& endpoint() const { return endpoint_; }

 private:
  S3Endpoint endpoint_;
  std::string scheme_;
  std::string host_;
  std::string hostHeader_;
  std::unique_ptr<http::client::http_client> client_;
};

S3Client::S3Client(S3Endpoint endpoint) : impl_(std::make_unique<Impl>(std::move(endpoint))) {}
S3Client::~S3Client() = default;

S3Answer S3Client::put(const std::string& key, const std::string& body, const Headers& headers) {
  return impl_->send("PUT", key, {}, body, headers);
}

S3Answer S3Client::head(const std::string& key) { return impl_->send("HEAD", key, {}, "", {}); }

S3Answer S3Client::get(const std::string& key) { return impl_->send("GET", key, {}, "", {}); }

S3Answer S3Client::list(const std::string& prefix, const std::string& continuation,
                        std::vector<std::string>& keys, std::string& next) {
  std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"}, {"prefix", prefix}};
  if (!continuation.empty()) query.emplace_back("continuation-token", continuation);
  auto answer = impl_->send("GET", "", query, "", {});
  keys.clear();
  next.clear();
  if (answer.ok()) {
    keys = xmlValues(answer.body, "Key");
    auto tokens = xmlValues(answer.body, "NextContinuationToken");
    auto truncated = xmlValues(answer.body, "IsTruncated");
    if (!tokens.empty() && !truncated.empty() && truncated.front() == "true") next = tokens.front();
  }
  return answer;
}

S3Answer S3Client::createMultipart(const std::string& key, const Headers& headers, std::string& uploadId) {
  auto answer = impl_->send("POST", key, {{"uploads", ""}}, "", headers);
  auto ids = xmlValues(answer.body, "UploadId");
  uploadId = ids.empty() ? "" : ids.front();
  if (answer.ok() && uploadId.empty()) {
    answer.status = 0;
    answer.error = "CreateMultipartUpload answered no UploadId";
  }
  return answer;
}

S3Answer S3Client::uploadPart(const std::string& key, const std::string& uploadId, int partNumber,
                              const std::string& body, std::string& etag) {
  auto answer = impl_->send("PUT", key, {{"partNumber", std::to_string(partNumber)}, {"uploadId", uploadId}},
                            body, {});
  etag = answer.headers.count("etag") ? answer.headers["etag"] : "";
  return answer;
}

S3Answer S3Client::completeMultipart(const std::string& key, const std::string& uploadId,
                                     const std::vector<std::string>& etags) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  auto answer = impl_->send("POST", key, {{"uploadId", uploadId}}, xml, {});
  // S3 may answer 200 with an <Error> body when the completion failed after it began.
  if (answer.ok() && answer.body.find("<Error>") != std::string::npos) {
    auto codes = xmlValues(answer.body, "Code");
    answer.code = codes.empty() ? "InternalError" : codes.front();
    answer.status = 500;
  }
  return answer;
}

S3Answer S3Client::abortMultipart(const std::string& key, const std::string& uploadId) {
  return impl_->send("DELETE", key, {{"uploadId", uploadId}}, "", {});
}

std::string S3Client::presignGet(const std::string& key, int64_t seconds) const { return impl_->presignGet(key, seconds); }

std::string S3Client::url(const std::string& key) const {
  return "s3://" + impl_->endpoint().bucket + "/" + key;
}

const S3Endpoint& S3Client::endpoint() const { return impl_->endpoint(); }

S3Endpoint endpointFor(const S3Settings& settings, const std::string& bucket) {
  S3Endpoint endpoint;
  endpoint.endpoint = settings.endpoint;
  endpoint.bucket = bucket;
  endpoint.region = settings.region;
  endpoint.pathStyle = settings.pathStyle;
  endpoint.caFile = settings.caFile;
  endpoint.timeout = settings.timeout;
  endpoint.credentials = loadCredentials(settings.credentialsFile);
  return endpoint;
}

sigv4::Credentials loadCredentials(const std::string& file) {
  sigv4::Credentials credentials;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the S3 credentials file " + file);
    std::string line;
    bool inDefault = true;  // keys before any [section] count as the default profile's
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[') {
        inDefault = line == "[default]";
        continue;
      }
      auto equals = line.find('=');
      if (!inDefault || equals == std::string::npos) continue;
      std::string name = trim(line.substr(0, equals));
      std::string value = trim(line.substr(equals + 1));
      if (name == "aws_access_key_id") credentials.accessKeyId = value;
      if (name == "aws_secret_access_key") credentials.secretAccessKey = value;
      if (name == "aws_session_token") credentials.sessionToken = value;
    }
    if (credentials.accessKeyId.empty() || credentials.secretAccessKey.empty()) {
      throw std::runtime_error("the S3 credentials file " + file +
                               " has no [default] aws_access_key_id and aws_secret_access_key");
    }
    return credentials;
  }
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::string(value) : std::string();
  };
  credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (credentials.accessKeyId.empty() || credentials.secretAccessKey.empty()) {
    throw std::runtime_error(
        "no S3 credentials: set evidence.s3.credentialsFile or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  return credentials;
}

}  // namespace podmortem::evidence
