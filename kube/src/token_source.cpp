#include "token_source.h"

#include <fstream>
#include <sstream>

namespace podmortem::kube::internal {

TokenSource::TokenSource(std::string token, std::string file)
    : token_(std::move(token)), file_(std::move(file)) {}

std::string TokenSource::current() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return token_;
  auto now = std::chrono::steady_clock::now();
  // A stat per request would be cheap too, but once a second is plenty for hourly rotation.
  if (now - checked_ < std::chrono::seconds(1) && !token_.empty()) return token_;
  checked_ = now;
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  if (ec || (mtime == seen_ && !token_.empty())) return token_;
  std::ifstream in(file_);
  if (!in) return token_;
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (!token.empty()) {
    token_ = std::move(token);
    seen_ = mtime;
  }
  return token_;
}

}  // namespace podmortem::kube::internal
