#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

namespace podmortem::webhooks {

// Builds the server's TLS context from PEM files and rebuilds it when the files change
// (Kubernetes swaps Secret volume contents under a running pod). New connections get the newest
// context; connections already open keep the one they started with.
class TlsContextProvider {
 public:
  // Throws std::runtime_error naming the file when the first context cannot be built.
  TlsContextProvider(std::string certFile, std::string keyFile, std::string clientCAFile);

  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Checks the files' identity (inode, size, mtime); rebuilds on a change. A failed rebuild (a
  // half-written pair, say) is logged and the previous context stays in use. Returns true when
  // a new context was installed.
  bool reloadIfChanged();

 private:
  std::string fingerprint() const;
  std::shared_ptr<boost::asio::ssl::context> build() const;

  std::string certFile_;
  std::string keyFile_;
  std::string clientCAFile_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string fingerprint_;
};

}  // namespace podmortem::webhooks
