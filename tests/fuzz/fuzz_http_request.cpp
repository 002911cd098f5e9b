// Bytes as what a client sends on a connection: the server's HTTP handling as a whole (parsing,
// limits, routing, keep-alive, JSON errors), through a socketpair instead of the network. The
// server must answer or close, never hang, and every answer must be HTTP.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "podmortem/webhooks/http_server.h"

using namespace podmortem;

namespace {

struct Fixture {
  prometheus::Registry registry;
  webhooks::HttpMetrics metrics{registry};
  std::unique_ptr<webhooks::HttpServer> server;

  Fixture() {
    webhooks::ServerOptions options;
    options.name = "fuzz";
    options.useTls = false;
    options.maxBodyBytes = 64 * 1024;
    options.readTimeout = std::chrono::seconds(5);
    options.threads = 1;
    std::vector<webhooks::Route> routes = {
        {"GET", "/healthz", "healthz", false,
         [](webhooks::HttpRequest&, webhooks::Respond respond) {
           respond({.status = 200, .body = R"({"status":"ok"})"});
         }},
        {"POST", "/validate", "validate", true,
         [](webhooks::HttpRequest& request, webhooks::Respond respond) {
           respond({.status = 200, .body = std::to_string(request.body.size())});
         }},
        {"POST", "/audit", "audit", true,
         [](webhooks::HttpRequest&, webhooks::Respond respond) { respond({.status = 200}); },
         [](const webhooks::HttpRequest& request) -> std::optional<webhooks::HttpResponse> {
           if (request.authorization == "Bearer fuzz") return std::nullopt;
           return webhooks::jsonError(401, "a bearer token is required");
         }},
    };
    server = std::make_unique<webhooks::HttpServer>(options, routes, metrics);
    server->start();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  fixture.server->serveConnection(fds[0]);
  size_t written = 0;
  if (size == 0) ::shutdown(fds[1], SHUT_WR);
  std::string answer;
  char buffer[16 * 1024];
  // Write and read together: the server may answer (and close) before it read everything.
  while (true) {
    short events = POLLIN;
    if (written < size) events |= POLLOUT;
    pollfd poller{fds[1], events, 0};
    int ready = ::poll(&poller, 1, 10'000);
    // libFuzzer's timeout alarm interrupts poll now and then: not the server's doing.
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) std::abort();  // ten seconds and the server neither read nor answered
    if ((poller.revents & POLLOUT) != 0) {
      ssize_t n = ::send(fds[1], data + written, size - written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      written = n <= 0 ? size : written + static_cast<size_t>(n);
      if (written == size) ::shutdown(fds[1], SHUT_WR);
    }
    if ((poller.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::recv(fds[1], buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      answer.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fds[1]);
  if (!answer.empty() && answer.rfind("HTTP/1.1 ", 0) != 0) std::abort();
  return 0;
}
