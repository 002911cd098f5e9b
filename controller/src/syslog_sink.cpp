// The syslog sink: RFC 5424 messages over TCP with octet counting (RFC 6587), in TLS (RFC 5425).
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "finding_sinks.h"
#include "podmortem/core/config.h"
#include "syslog_message.h"

namespace podmortem::controller {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// Syslog over TCP has no acknowledgement of its own. A finding counts as delivered once the
// receiver's TCP stack acknowledged every byte of it (the socket's send queue is empty), not
// once it sits in our send buffer; a receiver that vanished without a FIN (its node died) then
// shows as a timeout, and the finding is sent again on a new connection. Before each write the
// connection is checked for the receiver's close (a receiver that restarted closed it).
class SyslogSink final : public FindingSink {
 public:
  SyslogSink(const SinkSettings& settings, std::string host)
      : settings_(settings), host_(std::move(host)), tls_(ssl::context::tls_client) {
    auto address = core::parseHostPort("address", settings.address);
    serverHost_ = address.host;
    serverPort_ = address.port;
    boost::system::error_code notIp;
    net::ip::make_address(serverHost_, notIp);
    hostIsIp_ = !notIp;
    if (settings.tls) {
      SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
      tls_.set_verify_mode(ssl::verify_peer);
      if (!settings.caFile.empty()) {
        tls_.load_verify_file(settings.caFile);
      } else {
        tls_.set_default_verify_paths();
      }
      if (!settings.certFile.empty()) {
        tls_.use_certificate_chain_file(settings.certFile);
        tls_.use_private_key_file(settings.keyFile, ssl::context::pem);
      }
    }
  }

  ~SyslogSink() override { close(); }

  Delivery deliver(const OutboxRecord& record) override {
    nlohmann::json finding = nlohmann::json::parse(record.finding, nullptr, false);
    SyslogFields fields;
    fields.facility = settings_.facility;
    fields.severityId = finding.is_object() ? finding.value("severity_id", 3) : 3;
    fields.timeMillis = finding.is_object() ? finding.value("time", record.createdMillis) : record.createdMillis;
    fields.hostName = host_;
    fields.processId = std::to_string(::getpid());
    fields.key = record.key;
    fields.pod = record.pod;
    fields.message = record.finding;
    std::string frame = octetCounted(syslogMessage(fields));

    if (open() && peerClosed()) close();
    if (!open()) {
      if (auto error = connect(); !error.empty()) return {Delivery::Result::kRetry, error, "unreachable"};
    }
    const auto deadline = Clock::now() + settings_.timeout;
    auto error = run(deadline, [&](auto done) {
      if (tlsStream_) {
        net::async_write(*tlsStream_, net::buffer(frame), done);
      } else {
        net::async_write(*plain_, net::buffer(frame), done);
      }
    });
    if (!error && !acknowledged(deadline)) error = net::error::timed_out;
    if (error) {
      close();
      return {Delivery::Result::kRetry, "syslog write to " + settings_.address + ": " + error.message(),
              "unreachable"};
    }
    return {Delivery::Result::kSent, "", ""};
  }

 private:
  bool open() const { return tlsStream_ != nullptr || plain_ != nullptr; }

  tcp::socket& socket() { return tlsStream_ ? tlsStream_->next_layer() : *plain_; }

  // A syslog receiver never sends data: a readable socket is its close, or (TLS 1.3) session
  // tickets it sent after the handshake. Whatever is there goes through the TLS engine, which
  // takes tickets in silently and reports a close_notify or an EOF as an error.
  bool peerClosed() {
    for (int round = 0; round < 8; ++round) {
      pollfd polled{socket().native_handle(), POLLIN | POLLRDHUP, 0};
      if (::poll(&polled, 1, 0) == 0) return false;
      if (polled.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
      if (!tlsStream_) return true;  // plain TCP: data from a syslog receiver is not expected
      boost::system::error_code result = net::error::would_block;
      std::array<char, 256> scratch;
      io_.restart();
      tlsStream_->async_read_some(net::buffer(scratch),
                                  [&result](boost::system::error_code e, size_t) { result = e; });
      io_.poll();  // only what is already there: never waits
      if (result == net::error::would_block) {
        // The engine took a record in (a ticket) and wants more: nothing more is coming.
        socket().cancel();
        io_.restart();
        io_.run();
        continue;
      }
      if (result) return true;  // close_notify, EOF, a TLS alert
    }
    return false;
  }

  // Waits until the receiver's TCP acknowledged everything written (SIOCOUTQ: bytes not yet
  // acknowledged), polling in short steps until the deadline.
  bool acknowledged(Clock::time_point deadline) {
    int fd = socket().native_handle();
    auto step = std::chrono::microseconds(200);
    while (true) {
      int unacknowledged = 0;
      if (::ioctl(fd, SIOCOUTQ, &unacknowledged) != 0) return true;  // not Linux TCP: trust the write
      if (unacknowledged == 0) return true;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(step);
      step = std::min<std::chrono::microseconds>(step * 2, std::chrono::milliseconds(20));
    }
  }

  void close() {
    boost::system::error_code ignored;
    if (open()) socket().close(ignored);
    io_.restart();
    io_.run();  // aborted handlers run while the streams they refer to still exist
    tlsStream_.reset();
    plain_.reset();
  }

  // Runs one asynchronous operation to its end or to `deadline`. On timeout `cancel` aborts it
  // (closing the socket) and its handler runs before this returns, so nothing it refers to is
  // gone when it does.
  template <class Start>
  boost::system::error_code run(Clock::time_point deadline, Start start,
                                const std::function<void()>& cancel = {}) {
    boost::system::error_code result = net::error::would_block;
    io_.restart();
    start([&result](boost::system::error_code error, auto&&...) { result = error; });
    io_.run_until(deadline);
    if (result == net::error::would_block) {
      if (cancel) {
        cancel();
      } else {
        boost::system::error_code ignored;
        if (open()) socket().close(ignored);
      }
      io_.restart();
      io_.run();
      return net::error::timed_out;
    }
    return result;
  }

  std::string connect() {
    const auto deadline = Clock::now() + settings_.timeout;
    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    auto error = run(
        deadline,
        [&](auto done) {
          resolver.async_resolve(serverHost_, std::to_string(serverPort_),
                                 [&endpoints, done](boost::system::error_code e,
                                                    tcp::resolver::results_type r) mutable {
                                   endpoints = std::move(r);
                                   done(e);
                                 });
        },
        [&resolver] { resolver.cancel(); });
    if (error) return "syslog: cannot resolve " + serverHost_ + ": " + error.message();
    if (settings_.tls) {
      tlsStream_ = std::make_unique<ssl::stream<tcp::socket>>(io_, tls_);
      // SNI names hosts, never addresses (RFC 6066); the certificate is checked either way.
      if (!hostIsIp_) SSL_set_tlsext_host_name(tlsStream_->native_handle(), serverHost_.c_str());
      tlsStream_->set_verify_callback(ssl::host_name_verification(serverHost_));
    } else {
      plain_ = std::make_unique<tcp::socket>(io_);
    }
    error = run(deadline, [&](auto done) {
      net::async_connect(socket(), endpoints,
                         [done](boost::system::error_code e, const tcp::endpoint&) mutable { done(e); });
    });
    if (!error) {
      // A receiver that stops acknowledging fails the connection within the timeout, instead of
      // the kernel's retries (about 15 minutes).
      unsigned int userTimeout = static_cast<unsigned int>(settings_.timeout.count());
      ::setsockopt(socket().native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &userTimeout,
                   sizeof userTimeout);
    }
    if (!error && tlsStream_) {
      error = run(deadline, [&](auto done) { tlsStream_->async_handshake(ssl::stream_base::client, done); });
    }
    if (error) {
      close();
      return "syslog: cannot connect to " + settings_.address + ": " + error.message();
    }
    return "";
  }

  const SinkSettings settings_;
  const std::string host_;
  std::string serverHost_;
  uint16_t serverPort_ = 0;
  bool hostIsIp_ = false;
  net::io_context io_;
  ssl::context tls_;
  std::unique_ptr<ssl::stream<tcp::socket>> tlsStream_;
  std::unique_ptr<tcp::socket> plain_;
};

}  // namespace

std::unique_ptr<FindingSink> makeSyslogSink(const SinkSettings& settings, std::string host) {
  return std::make_unique<SyslogSink>(settings, std::move(host));
}

}  // namespace podmortem::controller
