#include "podmortem/webhooks/audit_handler.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "podmortem/core/log.h"
#include "podmortem/core/result.h"
#include "podmortem/webhooks/audit_decoder.h"

namespace podmortem::webhooks {

namespace log = core::log;
using Clock = std::chrono::steady_clock;

class AuditHandler::Impl {
 public:
  Impl(Options options, policy::CorrelationWindow& window, AuditMetrics& metrics,
       EventSink onEvent)
      : options_(std::move(options)),
        window_(window),
        metrics_(metrics),
        onEvent_(std::move(onEvent)),
        worker_([this] { run(); }) {
    metrics_.queueCapacity.Set(static_cast<double>(options_.queueBatches));
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

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
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= options_.queueBatches ||
          (!queue_.empty() && queuedBytes_ + request.body.size() > options_.queueBytes)) {
        // The API server's webhook backend retries a refused batch with backoff: nothing is
        // lost, and the same batch accepted later is deduplicated by auditID + stage.
        metrics_.batches.Add({{"code", "429"}}).Increment();
        HttpResponse busy = jsonError(429, "audit queue is full; retry later");
        busy.headers.emplace_back("Retry-After", "1");
        return respond(std::move(busy));
      }
      queuedBytes_ += request.body.size();
      queue_.push_back(std::move(request.body));
      metrics_.queueDepth.Set(static_cast<double>(queue_.size()));
    }
    wake_.notify_one();
    metrics_.batches.Add({{"code", "200"}}).Increment();
    HttpResponse ok;
    ok.body = R"({"status":"accepted"})";
    respond(std::move(ok));
  }

  uint64_t batchesIndexed() const {
    std::lock_guard lock(mutex_);
    return indexed_;
  }

 private:
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

  void run() {
    while (true) {
      std::string body;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued was indexed
        body = std::move(queue_.front());
        queue_.pop_front();
        queuedBytes_ -= body.size();
        metrics_.queueDepth.Set(static_cast<double>(queue_.size()));
      }
      ingest(body);
      std::lock_guard lock(mutex_);
      ++indexed_;
    }
  }

  void ingest(std::string& body) {
    auto started = Clock::now();
    // Bodies arrive with simdjson's padding as spare capacity; the move kept it.
    // Views into the body: the window copies each event's bytes once, into its spool.
    DecodedAudit decoded = decodeAuditPayload(body, options_.maxEventBytes, RawBytes::kView);
    if (!decoded.error.empty()) {
      metrics_.result("malformed").Increment();
      log::warn("audit batch is not usable", {{"error", decoded.error}});
    }
    metrics_.result("malformed").Increment(static_cast<double>(decoded.malformed));
    metrics_.result("oversized").Increment(static_cast<double>(decoded.oversized));
    auto now = std::chrono::system_clock::now();
    uint64_t accepted = 0;
    uint64_t duplicates = 0;
    for (size_t i = 0; i < decoded.events.size(); ++i) {
      const auto& event = decoded.events[i];
      if (window_.add(event, decoded.rawViews[i], now) ==
          policy::CorrelationWindow::AddResult::kDuplicate) {
        ++duplicates;
        continue;
      }
      ++accepted;
      if (onEvent_) {
        try {
          onEvent_(event);
        } catch (const std::exception& error) {
          log::error("audit trigger failed", {{"error", error.what()}, {"auditID", event.auditId}});
        }
      }
    }
    metrics_.result("accepted").Increment(static_cast<double>(accepted));
    metrics_.result("duplicate").Increment(static_cast<double>(duplicates));
    metrics_.ingestDuration.Observe(std::chrono::duration<double>(Clock::now() - started).count());
  }

  Options options_;
  policy::CorrelationWindow& window_;
  AuditMetrics& metrics_;
  EventSink onEvent_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  size_t queuedBytes_ = 0;  // bodies waiting, so that memory stays bounded, not just the count
  bool stopping_ = false;
  uint64_t indexed_ = 0;
  std::thread worker_;  // last: starts once everything above exists
};

AuditHandler::AuditHandler(Options options, policy::CorrelationWindow& window,
                           AuditMetrics& metrics, EventSink onEvent)
    : impl_(std::make_unique<Impl>(std::move(options), window, metrics, std::move(onEvent))) {}

AuditHandler::~AuditHandler() = default;

void AuditHandler::handle(HttpRequest& request, Respond respond) {
  impl_->handle(request, std::move(respond));
}

std::optional<HttpResponse> AuditHandler::refuse(const HttpRequest& request) {
  return impl_->refuse(request);
}

uint64_t AuditHandler::batchesIndexed() const { return impl_->batchesIndexed(); }

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
