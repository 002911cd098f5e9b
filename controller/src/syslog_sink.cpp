// The syslog sink: RFC 5424 messages over TCP with octet counting (RFC 6587), in TLS (RFC 5425).
#include <poll.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "finding_sinks.h"
#include "podmortem/core/config.h"
#include "podmortem/core/timestamp.h"
#include "syslog_message.h"

namespace podmortem::controller {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

// Syslog over TCP has no acknowledgement: a message is delivered once it is written into a
// connection the receiver has not closed. So before each write the connection is checked for
// the receiver's close (a receiver that restarted closed it), and a write that fails or times
// out is sent again on a new connection.
class SyslogSink final : public FindingSink {
 public:
  SyslogSink(const SinkSettings& settings, std::string host)
      : settings_(settings), host_(std::move(host)), tls_(ssl::context::tls_client) {
    auto address = core::parseHostPort("address", settings.address);
    serverHost_ = address.host;
    serverPort_ = address.port;
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

    if (open() && peerClosedOrSpoke()) close();
    if (!open()) {
      if (auto error = connect(); !error.empty()) return {Delivery::Result::kRetry, error, "unreachable"};
    }
    auto error = run([&](auto done) {
      if (tlsStream_) {
        net::async_write(*tlsStream_, net::buffer(frame), done);
      } else {
        net::async_write(*plain_, net::buffer(frame), done);
      }
    });
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

  // A syslog receiver never sends: anything readable is its close (or a TLS alert before it).
  bool peerClosedOrSpoke() {
    pollfd polled{socket().native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&polled, 1, 0) != 0;
  }

  void close() {
    boost::system::error_code ignored;
    if (open()) socket().close(ignored);
    tlsStream_.reset();
    plain_.reset();
  }

  // Runs one asynchronous operation to its end or to the sink's timeout.
  template <class Start>
  boost::system::error_code run(Start start) {
    boost::system::error_code result = net::error::would_block;
    io_.restart();
    start([&result](boost::system::error_code error, auto&&...) { result = error; });
    io_.run_for(settings_.timeout);
    if (result == net::error::would_block) {
      close();  // cancels the operation
      io_.restart();
      io_.run();
      return net::error::timed_out;
    }
    return result;
  }

  std::string connect() {
    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    auto error = run([&](auto done) {
      resolver.async_resolve(serverHost_, std::to_string(serverPort_),
                             [&endpoints, done](boost::system::error_code e, tcp::resolver::results_type r) mutable {
                               endpoints = std::move(r);
                               done(e);
                             });
    });
    if (error) return "syslog: cannot resolve " + serverHost_ + ": " + error.message();
    if (settings_.tls) {
      tlsStream_ = std::make_unique<ssl::stream<tcp::socket>>(io_, tls_);
      SSL_set_tlsext_host_name(tlsStream_->native_handle(), serverHost_.c_str());
      tlsStream_->set_verify_callback(ssl::host_name_verification(serverHost_));
    } else {
      plain_ = std::make_unique<tcp::socket>(io_);
    }
    error = run([&](auto done) {
      net::async_connect(socket(), endpoints,
                         [done](boost::system::error_code e, const tcp::endpoint&) mutable { done(e); });
    });
    if (!error && tlsStream_) {
      error = run([&](auto done) { tlsStream_->async_handshake(ssl::stream_base::client, done); });
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
