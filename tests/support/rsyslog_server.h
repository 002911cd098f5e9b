#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "test_support.h"

namespace podmortem::testing {

// A real rsyslogd (Debian's rsyslog with rsyslog-openssl) of the test's own: RFC 5424 over TLS
// (RFC 5425) on 127.0.0.1, every message written as one JSON line (tests/support/
// rsyslog_tls.conf.in). Its certificate is for 127.0.0.1, from a CA of its own (caFile()).
class RsyslogServer {
 public:
  // Whether rsyslogd is installed (scripts/install-deps.sh installs it); tests skip otherwise.
  static std::string binary();

  RsyslogServer();  // started on a port the kernel chose
  void start();     // again, on the same port
  void stop();      // SIGTERM: it closes its connections and exits
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string caFile() const { return caFile_; }
  // Every message it wrote: pri, facility, severity, timestamp, hostname, app_name, procid,
  // msgid, structured_data, msg, raw.
  std::vector<nlohmann::json> messages() const;

 private:
  void launch(uint16_t port);

  TempDir dir_;
  ChildProcess process_;
  uint16_t port_ = 0;
  std::string caFile_;
  std::string certFile_;
  std::string keyFile_;
};

}  // namespace podmortem::testing
