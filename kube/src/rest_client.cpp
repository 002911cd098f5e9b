#include "podmortem/kube/rest_client.h"

#include <cpprest/http_client.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/threadpool.h>

#include <mutex>

#include "podmortem/core/version.h"
#include "rate_limiter.h"
#include "token_source.h"

namespace podmortem::kube {

namespace {

namespace http = web::http;
using http::client::http_client;
using http::client::http_client_config;

// Adds the bearer token as a pipeline stage, so each request carries the token current when it
// is sent, not the one the client was built with.
class BearerTokenStage final : public http::http_pipeline_stage {
 public:
  explicit BearerTokenStage(std::shared_ptr<internal::TokenSource> tokens)
      : tokens_(std::move(tokens)) {}
  pplx::task<http::http_response> propagate(http::http_request request) override {
    std::string token = tokens_->current();
    if (!token.empty()) request.headers().add(http::header_names::authorization, "Bearer " + token);
    return next_stage()->propagate(request);
  }

 private:
  std::shared_ptr<internal::TokenSource> tokens_;
};

// Installs exactly the connection's CA as trusted (the library has already loaded the system
// store by the time this runs) and the client certificate.
void configureTls(boost::asio::ssl::context& context, const Connection& connection) {
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (!connection.caPem.empty()) {
    X509_STORE* store = X509_STORE_new();
    BIO* bio = BIO_new_mem_buf(connection.caPem.data(), static_cast<int>(connection.caPem.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
    }
    BIO_free(bio);
    SSL_CTX_set_cert_store(native, store);  // takes ownership, frees the system store
  }
  if (!connection.clientCertPem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(connection.clientCertPem));
    context.use_private_key(boost::asio::buffer(connection.clientKeyPem),
                            boost::asio::ssl::context::pem);
  }
}

class RestKubeClient final : public Client {
 public:
  RestKubeClient(Connection connection, RestClientOptions options, Metrics* metrics)
      : connection_(std::move(connection)),
        metrics_(metrics),
        limiter_(options.qps, options.burst),
        tokens_(std::make_shared<internal::TokenSource>(connection_.token, connection_.tokenFile)),
        requests_(makeClient(options.requestTimeout)),
        streams_(makeClient(options.streamIdleTimeout)) {}

  Response send(const Request& request) override {
    std::stop_source never;
    return exchange(*requests_, request, nullptr, never.get_token());
  }

  Response stream(const Request& request,
                      const std::function<bool(std::string_view)>& onLine,
                      std::stop_token stop) override {
    return exchange(*streams_, request, &onLine, stop);
  }

 private:
  std::unique_ptr<http_client> makeClient(std::chrono::milliseconds timeout) {
    http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    config.set_max_redirects(0);
    config.set_validate_certificates(!connection_.insecureSkipVerify);
    Connection tls = connection_;
    config.set_ssl_context_callback(
        [tls](boost::asio::ssl::context& context) { configureTls(context, tls); });
    auto client = std::make_unique<http_client>(web::uri(connection_.server), config);
    client->add_handler(std::make_shared<BearerTokenStage>(tokens_));
    return client;
  }

  void count(const Request& request, const Response& response) {
    if (metrics_ == nullptr) return;
    metrics_->countRequest(request.verb, request.resource,
                           response.status != 0 ? std::to_string(response.status) : "error");
  }

  // One request; with `onLine` the body is split into lines as it arrives, otherwise it is
  // collected (up to maxBodyBytes). Reads with getc + getn(in_avail): bigger reads would wait
  // for the whole body.
  Response exchange(http_client& client, const Request& request,
                        const std::function<bool(std::string_view)>* onLine,
                        std::stop_token stop) {
    Response response;
    if (!limiter_.acquire(stop)) {
      response.error = "cancelled";
      return response;
    }
    pplx::cancellation_token_source cancel;
    std::stop_callback onStop(stop, [&cancel] { cancel.cancel(); });
    try {
      http::http_request message(http::method(request.method));
      message.set_request_uri(web::uri(request.path));
      message.headers().add(http::header_names::accept, "application/json");
      message.headers().add(http::header_names::user_agent,
                            "podmortem/" + std::string(core::version()));
      for (const auto& [name, value] : request.headers) message.headers().add(name, value);
      if (!request.body.empty()) {
        // The byte-vector overload: set_body(std::string) reads a char buffer through a
        // uint8_t stream interface, which UBSan reports (and which is undefined behaviour).
        message.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
        message.headers().set_content_type(request.contentType);
      }
      http::http_response answer = client.request(message, cancel.get_token()).get();
      response.status = answer.status_code();
      bool success = response.status >= 200 && response.status < 300;
      auto buffer = answer.body().streambuf();
      using Traits = decltype(buffer)::traits;
      std::string pending;
      std::vector<uint8_t> chunk(64 * 1024);
      bool streaming = onLine != nullptr && success;
      while (!stop.stop_requested()) {
        // getc() peeks: it waits until a byte is there (or the end) without consuming it.
        if (buffer.getc().get() == Traits::eof()) break;
        size_t available = buffer.in_avail();
        while (available > 0) {
          size_t n = buffer.getn(chunk.data(), std::min(available, chunk.size())).get();
          if (n == 0) break;
          pending.append(reinterpret_cast<const char*>(chunk.data()), n);
          available = buffer.in_avail();
        }
        if (streaming) {
          size_t start = 0;
          for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
            std::string_view line(pending.data() + start, end - start);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (!line.empty() && !(*onLine)(line)) {
              cancel.cancel();
              count(request, response);
              return response;
            }
          }
          pending.erase(0, start);
        }
        // One watch event, or one answer, larger than the cap is refused rather than buffered.
        if (pending.size() > request.maxBodyBytes) {
          response.truncated = true;
          pending.resize(request.maxBodyBytes);
          cancel.cancel();
          break;
        }
      }
      if (streaming) {
        if (!pending.empty() && !response.truncated) (*onLine)(pending);
        if (response.truncated) response.error = "a watch event exceeded the size limit";
      } else {
        response.body = std::move(pending);
      }
    } catch (const http::http_exception& error) {
      response.error = stop.stop_requested() ? "cancelled" : describeException(error.what());
    } catch (const pplx::task_canceled&) {
      response.error = "cancelled";
    } catch (const boost::system::system_error& error) {
      response.error = describeException(error.code().message());
    } catch (const std::exception& error) {
      response.error = describeException(error.what());
    }
    count(request, response);
    return response;
  }

  std::string describeException(const std::string& what) const {
    return "request to " + connection_.server + " failed: " + what;
  }

  const Connection connection_;
  Metrics* metrics_;
  internal::RateLimiter limiter_;
  std::shared_ptr<internal::TokenSource> tokens_;
  std::unique_ptr<http_client> requests_;
  std::unique_ptr<http_client> streams_;
};

}  // namespace

void initializeThreadPool(size_t threads) {
  static std::once_flag once;
  std::call_once(once, [threads] {
    // OpenSSL frees a thread's error queue and DRBGs when the thread ends, unless
    // OPENSSL_cleanup (an atexit handler, registered at OpenSSL's first use) has run before.
    // Initialising OpenSSL first makes its handler run after the pool's destructor, which joins
    // the pool's threads: their OpenSSL state is freed, not left behind at exit.
    OPENSSL_init_ssl(0, nullptr);
    try {
      crossplat::threadpool::initialize_with_threads(threads);
    } catch (const std::exception&) {
      // Already initialised by an earlier client: keep that pool.
    }
  });
}

std::unique_ptr<Client> makeRestClient(Connection connection,
                                               RestClientOptions options,
                                               Metrics* metrics) {
  return std::make_unique<RestKubeClient>(std::move(connection), options, metrics);
}

}  // namespace podmortem::kube
