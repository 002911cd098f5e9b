#include "podmortem/webhooks/audit_handler.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "podmortem/core/log.h"
#include "podmortem/core/result.h"
#include "audit_splitter.h"

namespace podmortem::webhooks {

namespace log = core::log;

class AuditHandler::Impl {
 public:
  Impl(Options options, policy::AuditJournal& journal, AuditMetrics& metrics)
      : options_(std::move(options)), journal_(journal), metrics_(metrics) {}

  std::optional<HttpResponse> refuse(const HttpRequest& request) {
    auto allowed = authenticate(request);
    if (allowed.ok()) return std::nullopt;
    metrics_.result("rejected_auth").Increment();
    unsigned code = allowed.error().code == core::ErrorCode::kPermissionDenied ? 403 : 401;
    metrics_.batches.Add({{"code", std::to_string(code)}}).Increment();
    return jsonError(code, allowed.error().message);
  }

  void handle(HttpRequest& request, Respond respond) {
    if (auto refusal = refuse(request)) return respond(std::move(*refusal));
    const size_t limit = journal_.maxRecordBytes();
    if (limit == 0 || request.body.size() <= limit) {
      journal_.append(policy::AuditJournal::Kind::kAuditBatch, std::move(request.body),
                      [this, respond = std::move(respond)](core::Status stored) {
                        respond(answerFor(stored));
                      });
      return;
    }
    appendInParts(request.body, limit, std::move(respond));
  }

 private:
  // A batch larger than the journal's records: stored as several EventLists, answered 200 only
  // once every part is stored (a retry of the whole batch stores again only the parts that were
  // not: the stream deduplicates the others by content).
  void appendInParts(std::string& body, size_t limit, Respond respond) {
    SplitBatch split = splitAuditBatch(body, limit, options_.maxEventBytes);
    if (!split.error.empty()) {
      metrics_.result("malformed").Increment();
      metrics_.batches.Add({{"code", "400"}}).Increment();
      return respond(jsonError(400, "not an audit payload: " + split.error));
    }
    metrics_.result("oversized").Increment(static_cast<double>(split.dropped));
    if (split.parts.empty()) return respond(answerFor({}));
    struct Join {
      std::mutex mutex;
      size_t remaining;
      core::Status first;  // the first failure, if any
      Respond respond;
    };
    auto join = std::make_shared<Join>();
    join->remaining = split.parts.size();
    join->respond = std::move(respond);
    for (auto& part : split.parts) {
      journal_.append(policy::AuditJournal::Kind::kAuditBatch, std::move(part),
                      [this, join](core::Status stored) {
                        {
                          std::lock_guard lock(join->mutex);
                          if (!stored.ok() && join->first.ok()) join->first = stored;
                          if (--join->remaining != 0) return;
                        }
                        join->respond(answerFor(join->first));
                      });
    }
  }

  HttpResponse answerFor(const core::Status& stored) {
    if (stored.ok()) {
      metrics_.batches.Add({{"code", "200"}}).Increment();
      HttpResponse ok;
      ok.body = R"({"status":"accepted"})";
      return ok;
    }
    // The API server's webhook backend retries a refused batch with backoff: nothing is lost,
    // and the same batch accepted later is deduplicated (auditID + stage, and the stream's
    // message id).
    bool full = stored.error().code == core::ErrorCode::kResourceExhausted;
    unsigned code = full ? 429 : 503;
    metrics_.batches.Add({{"code", std::to_string(code)}}).Increment();
    HttpResponse busy = jsonError(code, full ? "audit queue is full; retry later"
                                             : "the audit stream cannot store the batch now; "
                                               "retry later");
    busy.headers.emplace_back("Retry-After", full ? "1" : "5");
    return busy;
  }

  // Whether the caller may post events: kPermissionDenied when ingest is switched off (403),
  // kUnauthenticated when the caller did not prove who it is (401).
  core::Status authenticate(const HttpRequest& request) const {
    auto unauthenticated = [](const char* why) {
      return core::makeError(core::ErrorCode::kUnauthenticated, why);
    };
    switch (options_.auth) {
      case AuditAuth::kDisabled:
        break;
      case AuditAuth::kNone:
        return {};
      case AuditAuth::kMtls:
        if (request.clientCertificateVerified) return {};
        return unauthenticated("a client certificate signed by tls.clientCAFile is required");
      case AuditAuth::kToken: {
        constexpr std::string_view kBearer = "Bearer ";
        std::string_view header = request.authorization;
        if (header.substr(0, kBearer.size()) != kBearer) {
          return unauthenticated("a bearer token is required");
        }
        std::string_view presented = header.substr(kBearer.size());
        // Constant time, so the comparison does not tell an attacker how much was right.
        bool same = presented.size() == options_.token.size() &&
                    CRYPTO_memcmp(presented.data(), options_.token.data(), presented.size()) == 0;
        if (same) return {};
        return unauthenticated("the bearer token is not valid");
      }
    }
    return core::makeError(core::ErrorCode::kPermissionDenied,
                           "audit ingest is not enabled: set audit.auth to mtls, token or none");
  }

  Options options_;
  policy::AuditJournal& journal_;
  AuditMetrics& metrics_;
};

AuditHandler::AuditHandler(Options options, policy::AuditJournal& journal, AuditMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), journal, metrics)) {}

AuditHandler::~AuditHandler() = default;

void AuditHandler::handle(HttpRequest& request, Respond respond) {
  impl_->handle(request, std::move(respond));
}

std::optional<HttpResponse> AuditHandler::refuse(const HttpRequest& request) {
  return impl_->refuse(request);
}

std::string loadOrCreateAuditToken(const std::string& tokenFile) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(tokenFile, ec)) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("no randomness for a token");
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string token;
    for (unsigned char byte : random) {
      token += kDigits[byte >> 4];
      token += kDigits[byte & 0xf];
    }
    fs::create_directories(fs::path(tokenFile).parent_path(), ec);
    // Created 0600 from the start: never readable by others, not even for a moment.
    int fd = ::open(tokenFile.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write audit.tokenFile " + tokenFile);
    std::string line = token + "\n";
    bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    written = ::close(fd) == 0 && written;
    if (!written) throw std::runtime_error("cannot write audit.tokenFile " + tokenFile);
    log::info("generated an audit bearer token", {{"tokenFile", tokenFile}});
  }
  std::ifstream in(tokenFile);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (!in && token.empty()) throw std::runtime_error("cannot read audit.tokenFile " + tokenFile);
  if (token.size() < 16) {
    throw std::runtime_error("audit.tokenFile " + tokenFile + " holds a token shorter than 16 characters");
  }
  return token;
}

}  // namespace podmortem::webhooks
