#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

namespace podmortem::kube::internal {

// The bearer token, fixed or from a file that is re-read when it changes: a projected
// service-account token is rotated by the kubelet under the running pod.
class TokenSource {
 public:
  TokenSource(std::string token, std::string file);
  std::string current();

 private:
  std::mutex mutex_;
  std::string token_;
  const std::string file_;
  std::filesystem::file_time_type seen_{};
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace podmortem::kube::internal
