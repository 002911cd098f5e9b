#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "test_support.h"

namespace podmortem::testing {

// The findings receiver of tests/schema/findings-receiver.mjs (node, ajv): an HTTPS server on
// 127.0.0.1 for the http and splunk-hec sinks that checks each finding against the OCSF
// Detection Finding schema and logs it before answering. Its certificate is made for 127.0.0.1
// by a CA of its own (caFile()).
class FindingsReceiver {
 public:
  struct Options {
    std::string bearer;    // /findings requires "Authorization: Bearer <bearer>" when set
    std::string hecToken = "hec-token-for-tests";
  };

  explicit FindingsReceiver(Options options);
  FindingsReceiver() : FindingsReceiver(Options{}) {}

  // Starts it (again, on the port it had) and waits until it listens.
  void start();
  void stop();  // SIGTERM: it answers no more, connections are refused
  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  std::string caFile() const;
  // Every finding it took or refused, in the order it received them (log lines).
  std::vector<nlohmann::json> records() const;

 private:
  Options options_;
  TempDir dir_;
  ChildProcess process_;
  uint16_t port_ = 0;
  std::string certFile_;
  std::string keyFile_;
  std::string caFile_;
};

// Findings the receiver took, valid ones only, and how often it saw each idempotency key.
struct ReceivedFindings {
  std::vector<nlohmann::json> findings;  // in arrival order
  std::vector<std::string> keys;         // the same order
  size_t invalid = 0;
  size_t duplicates = 0;  // arrivals of a key seen before
};
ReceivedFindings validFindings(const std::vector<nlohmann::json>& records);

}  // namespace podmortem::testing
