#include "podmortem/webhooks/http_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "podmortem/core/log.h"
#include "connection_table.h"
#include "tls_context_provider.h"

namespace podmortem::webhooks {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
namespace log = core::log;

namespace {

// Each connection lives on one loop's io_context: streams, sockets and the acceptor name its
// executor type, instead of Beast's default type-erased any_io_executor, which profiling showed
// being copied, compared and destroyed in every composed operation (~8% of the server's time).
using LoopExecutor = net::io_context::executor_type;
using TcpStream = beast::basic_stream<tcp, LoopExecutor, beast::unlimited_rate_policy>;
using TlsStream = beast::ssl_stream<TcpStream>;
using Socket = net::basic_stream_socket<tcp, LoopExecutor>;
using Acceptor = net::basic_socket_acceptor<tcp, LoopExecutor>;

// simdjson reads up to this many bytes past the end of a document; bodies are allocated with
// that much spare room so the JSON handlers can parse them in place.
constexpr size_t kJsonPadding = 64;
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kTlsRecordBytes = 16 * 1024;  // the most plaintext one TLS record carries

struct ServerState {
  ServerState(ServerOptions opts, std::vector<Route> routeList, HttpMetrics& httpMetrics)
      : options(std::move(opts)), routes(std::move(routeList)), metrics(httpMetrics) {}

  ServerOptions options;
  std::vector<Route> routes;
  HttpMetrics& metrics;
  std::unique_ptr<TlsContextProvider> tls;
  std::atomic<bool> draining{false};

  std::mutex inFlightMutex;
  std::condition_variable inFlightDone;
  uint32_t inFlight = 0;

  void requestStarted() {
    std::lock_guard lock(inFlightMutex);
    ++inFlight;
  }
  void requestFinished() {
    std::lock_guard lock(inFlightMutex);
    if (--inFlight == 0) inFlightDone.notify_all();
  }
};

bool isJsonContentType(std::string_view value) {
  auto semicolon = value.find(';');
  std::string_view type = value.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != 16) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != "application/json"[i]) return false;
  }
  return true;
}

// Headers the server writes itself: a handler's own would frame the answer twice.
bool reservedHeader(std::string_view name) {
  for (std::string_view reserved :
       {"content-length", "content-type", "connection", "transfer-encoding", "server"}) {
    if (beast::iequals(name, reserved)) return true;
  }
  return false;
}

// A header line's name is a token and neither part can end the line early.
bool writableHeader(std::string_view name, std::string_view value) {
  if (name.empty() || name.find_first_of(" \t:\r\n") != std::string_view::npos) return false;
  return value.find_first_of("\r\n") == std::string_view::npos;
}

// An answer as HTTP/1.1 bytes, in one buffer: one TLS record and one send, and none of the
// allocations of a Beast message and serializer (seen in profiles of the admission path). Names
// and values come from this program's handlers, never from a request; still, a header that
// could split the answer or frame it twice is left out.
std::string serializeResponse(const HttpResponse& response, bool keepAlive) {
  auto status = static_cast<http::status>(response.status);
  std::string_view reason = http::obsolete_reason(status);
  std::string_view contentType = writableHeader("Content-Type", response.contentType)
                                     ? std::string_view(response.contentType)
                                     : std::string_view("application/json");
  std::string out;
  out.reserve(160 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason;
  out += "\r\nServer: podmortem\r\nContent-Type: ";
  out += contentType;
  for (const auto& [name, value] : response.headers) {
    if (reservedHeader(name) || !writableHeader(name, value)) continue;
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  }
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  if (!keepAlive) out += "\r\nConnection: close";
  out += "\r\n\r\n";
  out += response.body;
  return out;
}

// The answer being given inside a handler's handle() call on this thread, if any.
thread_local const void* tAnsweringInline = nullptr;

// What a held answer needs to reach its connection's event loop: the loop while it runs, and
// the sessions waiting for an answer (owned here, not by the answer, so that no session outlives
// its io_context however long a handler keeps its Respond).
struct LoopHandle {
  std::mutex mutex;
  bool alive = true;
  net::io_context* context = nullptr;
  std::set<std::shared_ptr<void>> waiting;  // touched on the loop thread only
};

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>>,
                public ConnectionTable::Member {
 public:
  Session(Stream stream, std::shared_ptr<ssl::context> context, ServerState& state,
          std::shared_ptr<LoopHandle> loop, ConnectionTable& table, const std::string& address)
      : stream_(std::move(stream)),
        context_(std::move(context)),
        state_(state),
        loop_(std::move(loop)),
        table_(table),
        address_(address) {
    state_.metrics.connections.Increment();
    table_.add(*this, address);
  }

  ~Session() override {
    table_.remove(*this);
    state_.metrics.connections.Decrement();
  }

  // Made room for a newer connection (see ConnectionTable): close now; the pending operations
  // end with operation_aborted and release the session.
  void shed() override {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }

  void run() {
    if constexpr (kTls) {
      lowest().expires_after(state_.options.readTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                self->onHandshake(ec);
                              });
    } else {
      readHeader();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, TcpStream>;

  TcpStream& lowest() { return beast::get_lowest_layer(stream_); }

  void onHandshake(beast::error_code ec) {
    if (ec) {
      state_.metrics.tlsHandshakeFailures.Increment();
      log::debug("TLS handshake failed", {{"error", ec.message()}});
      return;  // the session ends; the socket closes with it
    }
    readHeader();
  }

  void readHeader() {
    // A keep-alive connection between requests may be shed for a new one; it reconnects.
    if (requests_ > 0) table_.setPhase(*this, ConnectionTable::Phase::kIdle);
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The body limit is set once the header was checked, so an announced oversized body gets
    // a 413 naming its route instead of a parse error. (Not boost::none: Beast 1.74 compares
    // the length against the empty optional and refuses every body.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    lowest().expires_after(requests_ == 0 ? state_.options.readTimeout
                                          : state_.options.idleTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              self->onHeader(ec);
                            });
  }

  void onHeader(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit) {
        closeAfterWrite_ = true;
        return writeResponse(jsonError(431, "request headers are too large"), "none");
      }
      if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
          ec != net::error::operation_aborted && ec != ssl::error::stream_truncated) {
        // Not HTTP at all: say so once, then close.
        closeAfterWrite_ = true;
        return writeResponse(jsonError(400, "malformed HTTP request: " + ec.message()), "none");
      }
      return;
    }
    ++requests_;
    // Until the whole request is read, it is as sheddable as a connection that sent nothing.
    table_.setPhase(*this, ConnectionTable::Phase::kUnproven);
    auto& header = parser_->get();
    std::string_view target = header.target();
    auto question = target.find('?');
    path_ = std::string(target.substr(0, question));
    query_ = question == std::string_view::npos ? std::string() : std::string(target.substr(question + 1));
    started_ = std::chrono::steady_clock::now();

    const Route* pathMatch = nullptr;
    route_ = nullptr;
    for (const auto& route : state_.routes) {
      if (!matches(route)) continue;
      pathMatch = &route;
      if (route.method == header.method_string()) {
        route_ = &route;
        break;
      }
    }
    bool bodyPending = !parser_->is_done();
    // An early answer leaves the body unread, so the connection cannot be reused after it.
    if (pathMatch == nullptr) {
      closeAfterWrite_ = bodyPending;
      return writeResponse(jsonError(404, "no such path: " + path_), "notfound");
    }
    if (route_ == nullptr) {
      closeAfterWrite_ = bodyPending;
      std::string allowed;
      for (const auto& route : state_.routes) {
        if (matches(route)) allowed += (allowed.empty() ? "" : ", ") + route.method;
      }
      auto response = jsonError(405, "method " + std::string(header.method_string()) +
                                         " is not allowed on " + path_ + "; use " + allowed);
      response.headers.emplace_back("Allow", allowed);
      return writeResponse(std::move(response), pathMatch->handlerName);
    }
    if (route_->jsonBody && !isJsonContentType(header[http::field::content_type])) {
      closeAfterWrite_ = bodyPending;
      return writeResponse(jsonError(415, "Content-Type must be application/json"),
                           route_->handlerName);
    }
    auto length = parser_->content_length();
    if (length && *length > state_.options.maxBodyBytes) {
      closeAfterWrite_ = true;
      return writeResponse(
          jsonError(413, "body of " + std::to_string(*length) + " bytes is over the limit of " +
                             std::to_string(state_.options.maxBodyBytes)),
          route_->handlerName);
    }
    if (route_->checkHeaders) {
      // Refuse before reading a body nobody may send (an unauthenticated audit batch).
      if (auto refusal = route_->checkHeaders(headerRequest(header))) {
        closeAfterWrite_ = bodyPending;
        return writeResponse(std::move(*refusal), route_->handlerName);
      }
    }
    if (!bodyPending) return dispatch();
    parser_->body_limit(state_.options.maxBodyBytes);
    if (length) {
      parser_->get().body().reserve(*length + kJsonPadding);
      // Beast reads no more than the buffer's free room (512 bytes at first), and each read is
      // an SSL_read: profiling counted nine of them for a 4 KB AdmissionReview. Room for a TLS
      // record's worth, kept for the connection's next requests, makes it one.
      buffer_.reserve(std::min<uint64_t>(buffer_.size() + *length, kTlsRecordBytes));
    }
    lowest().expires_after(state_.options.readTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->onBody(ec);
                     });
  }

  void onBody(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      closeAfterWrite_ = true;
      return writeResponse(jsonError(413, "body is over the limit of " +
                                              std::to_string(state_.options.maxBodyBytes) +
                                              " bytes"),
                           route_->handlerName);
    }
    if (ec) {
      log::debug("reading a request body failed", {{"error", ec.message()}});
      return;  // timeout or a closed connection: nobody to answer
    }
    dispatch();
  }

  bool matches(const Route& route) const {
    return route.prefix ? path_.size() > route.path.size() && path_.rfind(route.path, 0) == 0 : route.path == path_;
  }

  // The request as its header describes it, without a body.
  template <class Header>
  HttpRequest headerRequest(const Header& header) {
    HttpRequest request;
    request.method = std::string(header.method_string());
    request.path = path_;
    request.query = query_;
    request.contentType = std::string(header[http::field::content_type]);
    request.authorization = std::string(header[http::field::authorization]);
    request.downloadToken = std::string(header["X-Podmortem-Token"]);
    request.remoteAddress = address_;
    if constexpr (kTls) fillClientCertificate(request);
    return request;
  }

  void dispatch() {
    auto message = parser_->release();
    keepAlive_ = message.keep_alive();
    HttpRequest request = headerRequest(message);
    request.body = std::move(message.body());

    state_.requestStarted();
    table_.setPhase(*this, ConnectionTable::Phase::kBusy);  // a held answer is never shed
    lowest().expires_never();  // a held answer may take longer than the read timeout
    auto self = this->shared_from_this();
    auto pending = std::make_shared<PendingAnswer>();
    pending->session = self;
    pending->loop = loop_;
    Respond respond = [pending](HttpResponse response) { pending->give(std::move(response)); };
    {
      struct Inline {  // set for exactly the handle() call, however it ends
        explicit Inline(const void* answer) { tAnsweringInline = answer; }
        ~Inline() { tAnsweringInline = nullptr; }
      } inlineAnswer(pending.get());
      try {
        route_->handle(request, respond);
      } catch (const std::exception& error) {
        log::error("handler failed", {{"handler", route_->handlerName}, {"error", error.what()}});
        respond(jsonError(500, "internal error"));
      }
    }
    // Most answers are given at once, inside handle(): written straight away, with no trip
    // through the loop's queue. A held one comes later; until then the loop keeps the session.
    if (pending->immediate) {
      return writeResponse(std::move(*pending->immediate), route_->handlerName, true);
    }
    loop_->waiting.insert(self);
  }

  // One request's answer, given once, on the loop thread inside handle() or from any thread
  // later.
  struct PendingAnswer {
    std::weak_ptr<Session> session;
    std::shared_ptr<LoopHandle> loop;
    std::atomic<bool> answered{false};
    std::optional<HttpResponse> immediate;  // given inside handle(): dispatch() writes it

    void give(HttpResponse response) {
      if (answered.exchange(true)) return;
      if (tAnsweringInline == this) {
        immediate = std::move(response);
        return;
      }
      std::lock_guard lock(loop->mutex);
      if (!loop->alive) {
        log::debug("answer dropped: the server stopped");
        return;
      }
      // Runs after the dispatch() that handed this answer out returned: the session is then
      // in loop->waiting.
      net::post(*loop->context, [weak = session, loop = loop, response = std::move(response)]() mutable {
        auto session = weak.lock();
        if (!session) {
          log::debug("answer dropped: the connection is gone");
          return;
        }
        loop->waiting.erase(session);
        session->writeResponse(std::move(response), session->route_->handlerName, true);
      });
    }
  };

  void fillClientCertificate(HttpRequest& request) {
    SSL* native = stream_.native_handle();
    X509* peer = SSL_get0_peer_certificate(native);
    if (peer == nullptr) return;
    request.clientCertificateVerified = SSL_get_verify_result(native) == X509_V_OK;
    char subject[512];
    X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
    request.clientCertificateSubject = subject;
  }

  void writeResponse(HttpResponse response, const std::string& handlerName,
                     bool dispatched = false) {
    table_.setPhase(*this, ConnectionTable::Phase::kBusy);
    dispatched_ = dispatched;
    bool keepAlive = keepAlive_ && !closeAfterWrite_ && !state_.draining.load();
    wire_ = serializeResponse(response, keepAlive);
    double seconds = requests_ == 0 ? 0
                                    : std::chrono::duration<double>(
                                          std::chrono::steady_clock::now() - started_)
                                          .count();
    state_.metrics.observe(handlerName, response.status, seconds);
    lowest().expires_after(state_.options.writeTimeout.count() > 0 ? state_.options.writeTimeout
                                                                  : state_.options.readTimeout);
    net::async_write(stream_, net::buffer(wire_),
                      [self = this->shared_from_this(), keepAlive](beast::error_code ec, size_t) {
                        self->onWrite(ec, keepAlive);
                      });
  }

  void onWrite(beast::error_code ec, bool keepAlive) {
    if (ec) log::debug("writing a response failed", {{"error", ec.message()}});
    if (dispatched_) state_.requestFinished();
    dispatched_ = false;
    wire_.clear();
    if (ec) return;
    if (keepAlive) return readHeader();
    close();
  }

  void close() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  std::shared_ptr<ssl::context> context_;  // the TLS context this connection started with
  ServerState& state_;
  std::shared_ptr<LoopHandle> loop_;
  ConnectionTable& table_;
  const std::string address_;  // the peer's IP address
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string wire_;  // the answer being written: status line, header and body
  const Route* route_ = nullptr;
  std::string path_;
  std::string query_;
  std::chrono::steady_clock::time_point started_;
  uint64_t requests_ = 0;
  bool keepAlive_ = true;
  bool closeAfterWrite_ = false;
  bool dispatched_ = false;
};

// One event loop: an io_context run by one thread, with its own SO_REUSEPORT acceptor. Two
// independent loops measured nearly twice the throughput of one loop shared by two threads.
class EventLoop {
 public:
  EventLoop(ServerState& state, size_t loops)
      : state_(state),
        // SO_REUSEPORT spreads connections evenly over the loops, so each takes its share.
        table_(share(state.options.maxConnections, loops),
               share(state.options.maxConnectionsPerAddress, loops)),
        acceptor_(context_),
        handle_(std::make_shared<LoopHandle>()),
        // Held answers arrive from other threads after the acceptor closed; without this the
        // loop would run out of work and return before they are written.
        work_(net::make_work_guard(context_)) {
    handle_->context = &context_;
  }

  void bind(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    int one = 1;
    ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void start() {
    accept();
    thread_ = std::thread([this] { context_.run(); });
  }

  // A connected socket that did not come through the acceptor (a socketpair end): served like
  // an accepted one, on this loop.
  void adopt(int fd) {
    net::post(context_, [this, fd] {
      Socket socket(context_);
      beast::error_code ec;
      socket.assign(tcp::v4(), fd, ec);
      if (ec) {
        ::close(fd);
        return;
      }
      admit(std::move(socket));
    });
  }

  void stopAccepting() {
    net::post(context_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
  }

  void stop() {
    {
      std::lock_guard lock(handle_->mutex);
      handle_->alive = false;
    }
    context_.stop();
    if (thread_.joinable()) thread_.join();
    handle_->waiting.clear();  // the loop thread is gone; the io_context is still here
  }

  net::io_context& context() { return context_; }

 private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, Socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of descriptors, say: back off briefly instead of spinning.
        log::warn("accept failed", {{"server", state_.options.name}, {"error", ec.message()}});
        auto timer = std::make_shared<net::steady_timer>(context_, std::chrono::milliseconds(50));
        timer->async_wait([this, timer](beast::error_code) { accept(); });
        return;
      }
      admit(std::move(socket));
      accept();
    });
  }

  static size_t share(size_t total, size_t loops) {
    return total == 0 ? 0 : (total + loops - 1) / loops;
  }

  void admit(Socket socket) {
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    std::string address = ec ? std::string() : endpoint.address().to_string();
    auto result = table_.admit(address);
    if (result.admission == ConnectionTable::Admission::kRefused) {
      // Every connection that could make room is busy with a request: this one has to go.
      state_.metrics.connectionsRejected.Increment();
      socket.close(ec);
      return;
    }
    if (result.admission == ConnectionTable::Admission::kAdmittedByShedding) {
      state_.metrics.connectionsShed.Add({{"reason", result.reason}}).Increment();
    }
    socket.set_option(tcp::no_delay(true), ec);
    startSession(std::move(socket), address);
  }

  void startSession(Socket socket, const std::string& address) {
    if (state_.options.useTls) {
      auto context = state_.tls->current();
      TlsStream stream(TcpStream(std::move(socket)), *context);
      std::make_shared<Session<TlsStream>>(std::move(stream), context, state_, handle_, table_,
                                           address)
          ->run();
    } else {
      std::make_shared<Session<TcpStream>>(TcpStream(std::move(socket)), nullptr, state_, handle_,
                                           table_, address)
          ->run();
    }
  }

  ServerState& state_;
  ConnectionTable table_;  // before the io_context: sessions leave it when the context goes
  net::io_context context_{1};  // one thread runs it
  Acceptor acceptor_;
  std::shared_ptr<LoopHandle> handle_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, std::vector<Route> routes, HttpMetrics& metrics)
      : state_(std::move(options), std::move(routes), metrics) {}

  ~Impl() { shutdown(std::chrono::milliseconds(0)); }

  void start() {
    auto& options = state_.options;
    if (options.useTls) {
      state_.tls = std::make_unique<TlsContextProvider>(options.tls.certFile, options.tls.keyFile,
                                                        options.tls.clientCAFile);
    }
    boost::system::error_code ec;
    auto address = net::ip::make_address(options.host, ec);
    if (ec) throw std::runtime_error("cannot listen on \"" + options.host + "\": not an IP address");
    uint32_t threads = std::max<uint32_t>(1, options.threads);
    tcp::endpoint endpoint(address, options.port);
    try {
      for (uint32_t i = 0; i < threads; ++i) {
        auto loop = std::make_unique<EventLoop>(state_, threads);
        loop->bind(endpoint);
        // With port 0 the first bind picks the port; the others share it through SO_REUSEPORT.
        endpoint.port(loop->port());
        loops_.push_back(std::move(loop));
      }
    } catch (const boost::system::system_error& error) {
      throw std::runtime_error("cannot listen on " + options.host + ":" +
                               std::to_string(options.port) + ": " + error.code().message());
    }
    port_ = endpoint.port();
    if (options.useTls) scheduleReload();
    for (auto& loop : loops_) loop->start();
    running_ = true;
  }

  uint16_t port() const { return port_; }

  void serveConnection(int fd) {
    if (!running_ || loops_.empty()) {
      ::close(fd);
      return;
    }
    loops_.front()->adopt(fd);
  }

  void shutdown(std::chrono::milliseconds grace) {
    if (!running_) return;
    running_ = false;
    state_.draining = true;
    for (auto& loop : loops_) loop->stopAccepting();
    if (reloadTimer_) {
      net::post(loops_.front()->context(), [timer = reloadTimer_] { timer->cancel(); });
    }
    {
      std::unique_lock lock(state_.inFlightMutex);
      state_.inFlightDone.wait_for(lock, grace, [this] { return state_.inFlight == 0; });
      if (state_.inFlight != 0) {
        log::warn("shutdown: requests still in flight after the grace period",
                  {{"server", state_.options.name}, {"inFlight", int64_t(state_.inFlight)}});
      }
    }
    for (auto& loop : loops_) loop->stop();
    reloadTimer_.reset();  // before its io_context goes
    loops_.clear();
  }

 private:
  void scheduleReload() {
    if (!reloadTimer_) {
      reloadTimer_ = std::make_shared<net::steady_timer>(loops_.front()->context());
    }
    reloadTimer_->expires_after(state_.options.tls.reloadInterval);
    reloadTimer_->async_wait([this](beast::error_code ec) {
      if (ec) return;
      if (state_.tls->reloadIfChanged()) state_.metrics.tlsReloads.Increment();
      scheduleReload();
    });
  }

  ServerState state_;  // declared first: sessions touch it until the loops are gone
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::shared_ptr<net::steady_timer> reloadTimer_;
  uint16_t port_ = 0;
  bool running_ = false;
};

HttpServer::HttpServer(ServerOptions options, std::vector<Route> routes, HttpMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(routes), metrics)) {}

HttpServer::~HttpServer() = default;

void HttpServer::start() { impl_->start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::serveConnection(int fd) { impl_->serveConnection(fd); }

void HttpServer::shutdown(std::chrono::milliseconds grace) { impl_->shutdown(grace); }

}  // namespace podmortem::webhooks
