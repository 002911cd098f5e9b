#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "test_support.h"

namespace podmortem::testing {

// A real S3-compatible server (@20minutes/s3rver, node; tests/s3/s3-server.mjs) on 127.0.0.1,
// path-style, bucket "evidence", checking SigV4 with its built-in credentials S3RVER/S3RVER.
// Every request it receives is logged (method, URL, headers): s3rver keeps no Object Lock and
// checks no checksum, so the tests look for those headers on the wire.
class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";
  static constexpr const char* kBucket = "evidence";
  static std::string version();  // of the installed s3rver package

  S3Server();
  void start();  // again, on the port it had
  void stop();   // SIGTERM: connections refused until start()
  uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The requests it received, in order.
  std::vector<nlohmann::json> requests() const;
  // Where s3rver keeps an object's bytes (to change one behind podmortem's back).
  std::filesystem::path objectFile(const std::string& key) const;
  // An AWS shared credentials file with the server's credentials (or a wrong secret).
  std::filesystem::path credentialsFile(bool wrongSecret = false) const;

 private:
  TempDir dir_;
  ChildProcess process_;
  uint16_t port_ = 0;
};

}  // namespace podmortem::testing
