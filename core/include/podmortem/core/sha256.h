#pragma once

#include <string>
#include <string_view>

namespace podmortem::core {

// Lower-case hex SHA-256 of the bytes, via OpenSSL's EVP interface.
std::string sha256Hex(std::string_view bytes);

// Incremental form for artifacts that are written in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  std::string finishHex();

 private:
  void* ctx_;
};

}  // namespace podmortem::core
