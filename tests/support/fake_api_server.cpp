#include "fake_api_server.h"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "podmortem/webhooks/self_signed.h"
#include "test_support.h"

namespace podmortem::testing {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using Stream = ssl::stream<tcp::socket>;

namespace {

std::string nowRfc3339() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string randomUid() {
  static std::mt19937_64 random{std::random_device{}()};
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>(random() & 0xffffffff),
                static_cast<unsigned long long>(random() & 0xffff),
                static_cast<unsigned long long>(random() & 0xfff),
                static_cast<unsigned long long>(random() & 0xfff),
                static_cast<unsigned long long>(random() & 0xffffffffffff));
  return text;
}

// The Status object of a failed call, shaped like the recorded ones (error-404-notfound.json).
json status(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"},  {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason}, {"code", code}};
}

std::string decodePercent(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view query) {
  std::map<std::string, std::string> values;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    values[decodePercent(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : decodePercent(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return values;
}

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) segments.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

// Where a request points: collection, namespace, object name, subresource.
struct Target {
  bool valid = false;
  std::string collection;
  std::string namespaceName;
  std::string name;
  std::string subresource;
};

Target parseTarget(std::string_view path) {
  Target target;
  auto segments = splitPath(path);
  size_t rest = 0;
  std::string group;
  if (segments.size() >= 2 && segments[0] == "api") {
    rest = 2;
  } else if (segments.size() >= 3 && segments[0] == "apis") {
    group = segments[1];
    rest = 3;
  } else {
    return target;
  }
  std::vector<std::string> tail(segments.begin() + static_cast<long>(rest), segments.end());
  if (tail.size() >= 3 && tail[0] == "namespaces") {
    target.namespaceName = tail[1];
    tail.erase(tail.begin(), tail.begin() + 2);
  }
  if (tail.empty() || tail.size() > 3) return target;
  target.collection = group + "/" + tail[0];
  if (tail.size() >= 2) target.name = tail[1];
  if (tail.size() == 3) target.subresource = tail[2];
  target.valid = true;
  return target;
}

// "involvedObject.uid=abc,metadata.name=x": every dotted path must equal its value.
bool fieldsMatch(const json& object, const std::string& selector) {
  std::stringstream parts(selector);
  for (std::string part; std::getline(parts, part, ',');) {
    auto eq = part.find('=');
    if (eq == std::string::npos) continue;
    std::string pointer = "/" + part.substr(0, eq);
    for (auto& c : pointer) {
      if (c == '.') c = '/';
    }
    const json* node = &object;
    try {
      node = &object.at(json::json_pointer(pointer));
    } catch (const std::exception&) {
      return false;
    }
    if (!node->is_string() || node->get<std::string>() != part.substr(eq + 1)) return false;
  }
  return true;
}

struct WatchEvent {
  uint64_t version;
  std::string collection;
  std::string type;
  json object;
};

}  // namespace

class FakeApiServer::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)), tls_(ssl::context::tls_server) {
    auto generated = webhooks::ensureSelfSignedCertificate(dir_.str(), {});
    caFile_ = generated.caFile;
    caPem_ = readFile(caFile_);
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_.use_certificate_chain_file(generated.certFile);
    tls_.use_private_key_file(generated.keyFile, ssl::context::pem);
    if (!options_.clientCaFile.empty()) {
      tls_.load_verify_file(options_.clientCaFile);
      tls_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    acceptor_.open(tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    acceptThread_ = std::thread([this] { acceptLoop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      stalled_ = false;
    }
    changed_.notify_all();
    boost::system::error_code ec;
    acceptor_.cancel(ec);
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    acceptThread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (int fd : openSockets_) ::shutdown(fd, SHUT_RDWR);
      threads = std::move(connections_);
    }
    for (auto& thread : threads) thread.join();
  }

  uint16_t port() const { return port_; }
  std::string caPem() const { return caPem_; }
  std::string caFile() const { return caFile_; }

  json put(const std::string& collection, json object) {
    std::lock_guard lock(mutex_);
    return store(collection, std::move(object), false).second;
  }

  void remove(const std::string& collection, const std::string& ns, const std::string& name) {
    std::lock_guard lock(mutex_);
    erase(collection, ns + "/" + name);
  }

  std::optional<json> get(const std::string& collection, const std::string& ns,
                          const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto c = collections_.find(collection);
    if (c == collections_.end()) return std::nullopt;
    auto o = c->second.find(ns + "/" + name);
    if (o == c->second.end()) return std::nullopt;
    return o->second;
  }

  std::vector<json> list(const std::string& collection) const {
    std::lock_guard lock(mutex_);
    std::vector<json> items;
    auto c = collections_.find(collection);
    if (c != collections_.end()) {
      for (const auto& [key, object] : c->second) items.push_back(object);
    }
    return items;
  }

  void setLog(const std::string& ns, const std::string& pod, const std::string& container,
              bool previous, std::string text) {
    std::lock_guard lock(mutex_);
    logs_[ns + "/" + pod + "/" + container + (previous ? "/previous" : "")] = std::move(text);
  }

  void setDown(bool down) {
    std::vector<int> sockets;
    {
      std::lock_guard lock(mutex_);
      down_ = down;
      if (down) {
        ++outages_;
        sockets.assign(openSockets_.begin(), openSockets_.end());
      }
    }
    for (int fd : sockets) ::shutdown(fd, SHUT_RDWR);
    changed_.notify_all();
  }

  void failNext(int requests, int code) {
    std::lock_guard lock(mutex_);
    failures_ = requests;
    failureStatus_ = code;
  }

  void stall(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    stallPrefix_ = prefix;
    stalled_ = true;
  }

  void release() {
    {
      std::lock_guard lock(mutex_);
      stalled_ = false;
    }
    changed_.notify_all();
  }

  void closeWatches() {
    {
      std::lock_guard lock(mutex_);
      ++watchGeneration_;
    }
    changed_.notify_all();
  }

  void compact() {
    std::lock_guard lock(mutex_);
    compactedBelow_ = version_;
    events_.clear();
  }

  void bookmark() {
    {
      std::lock_guard lock(mutex_);
      ++bookmarks_;
    }
    changed_.notify_all();
  }

  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  std::vector<std::string> authorizations() const {
    std::lock_guard lock(mutex_);
    return authorizations_;
  }

  size_t openWatches() const {
    std::lock_guard lock(mutex_);
    return openWatches_;
  }

 private:
  // Creates or replaces under the lock; returns (created, stored object).
  std::pair<bool, json> store(const std::string& collection, json object, bool keepStatus) {
    auto& metadata = object["metadata"];
    std::string key = metadata.value("namespace", "") + "/" + metadata.value("name", "");
    auto& objects = collections_[collection];
    auto existing = objects.find(key);
    bool created = existing == objects.end();
    if (created) {
      metadata["uid"] = metadata.value("uid", randomUid());
      metadata["creationTimestamp"] = metadata.value("creationTimestamp", nowRfc3339());
      metadata["generation"] = 1;
    } else {
      const json& old = existing->second;
      metadata["uid"] = old["metadata"]["uid"];
      metadata["creationTimestamp"] = old["metadata"]["creationTimestamp"];
      int64_t generation = old["metadata"].value("generation", int64_t{1});
      bool specChanged = old.value("spec", json()) != object.value("spec", json());
      metadata["generation"] = specChanged ? generation + 1 : generation;
      if (keepStatus) {
        if (old.contains("status")) {
          object["status"] = old["status"];
        } else {
          object.erase("status");
        }
      }
    }
    metadata["resourceVersion"] = std::to_string(++version_);
    objects[key] = object;
    events_.push_back({version_, collection, created ? "ADDED" : "MODIFIED", object});
    changed_.notify_all();
    return {created, object};
  }

  bool erase(const std::string& collection, const std::string& key) {
    auto c = collections_.find(collection);
    if (c == collections_.end()) return false;
    auto o = c->second.find(key);
    if (o == c->second.end()) return false;
    json object = o->second;
    c->second.erase(o);
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    events_.push_back({version_, collection, "DELETED", object});
    changed_.notify_all();
    return true;
  }

  bool hasStatusSubresource(const std::string& collection) const {
    return std::find(options_.statusSubresource.begin(), options_.statusSubresource.end(),
                     collection) != options_.statusSubresource.end();
  }

  void acceptLoop() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      if (ec) continue;
      if (down_) {
        socket.close(ec);  // the API server is unreachable
        continue;
      }
      int fd = socket.native_handle();
      openSockets_.insert(fd);
      connections_.emplace_back([this, s = std::move(socket), fd]() mutable {
        serve(std::move(s));
        std::lock_guard inner(mutex_);
        openSockets_.erase(fd);
      });
    }
  }

  void serve(tcp::socket socket) {
    Stream stream(std::move(socket), tls_);
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    boost::beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      http::read(stream, buffer, request, ec);
      if (ec) return;
      if (!handle(stream, request)) return;
      if (!request.keep_alive()) return;
    }
  }

  void writeJson(Stream& stream, const http::request<http::string_body>& request, unsigned code,
                 const json& body) {
    writeText(stream, request, code, body.dump(), "application/json");
  }

  void writeText(Stream& stream, const http::request<http::string_body>& request, unsigned code,
                 std::string body, const std::string& contentType) {
    http::response<http::string_body> response{static_cast<http::status>(code), request.version()};
    response.set(http::field::content_type, contentType);
    response.keep_alive(request.keep_alive());
    response.body() = std::move(body);
    response.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, response, ec);
  }

  // Returns false when the connection must close.
  bool handle(Stream& stream, http::request<http::string_body>& request) {
    std::string targetText(request.target());
    auto question = targetText.find('?');
    std::string path = targetText.substr(0, question);
    auto query = question == std::string::npos ? std::map<std::string, std::string>{}
                                               : parseQuery(targetText.substr(question + 1));
    std::string method(request.method_string());
    {
      std::unique_lock lock(mutex_);
      requests_.push_back(method + " " + targetText);
      authorizations_.emplace_back(request[http::field::authorization]);
      if (down_) return false;
      if (stalled_ && path.rfind(stallPrefix_, 0) == 0) {
        changed_.wait(lock, [this] { return !stalled_ || stopping_ || down_; });
        if (stopping_ || down_) return false;
      }
      if (failures_ > 0) {
        --failures_;
        int code = failureStatus_;
        lock.unlock();
        writeJson(stream, request, static_cast<unsigned>(code),
                  status(code, "InternalError", "injected failure"));
        return true;
      }
    }
    if (!options_.token.empty() &&
        request[http::field::authorization] != "Bearer " + options_.token) {
      writeJson(stream, request, 401, status(401, "Unauthorized", "Unauthorized"));
      return true;
    }
    Target target = parseTarget(path);
    if (!target.valid) {
      writeJson(stream, request, 404, status(404, "NotFound", "the server could not find the requested resource"));
      return true;
    }
    if (target.subresource == "log" && method == "GET") return serveLog(stream, request, target, query);
    if (target.name.empty() && method == "GET" && query.count("watch") && query["watch"] != "false" &&
        query["watch"] != "0") {
      return serveWatch(stream, target, query);
    }
    auto [code, body] = serveObject(method, target, query, request);
    writeJson(stream, request, code, body);
    return true;
  }

  std::pair<unsigned, json> serveObject(const std::string& method, const Target& target,
                                        std::map<std::string, std::string>& query,
                                        const http::request<http::string_body>& request) {
    std::lock_guard lock(mutex_);
    std::string key = target.namespaceName + "/" + target.name;
    auto& objects = collections_[target.collection];
    auto found = objects.find(key);
    auto notFound = [&] {
      std::string resource = target.collection.substr(target.collection.find('/') + 1);
      return std::pair<unsigned, json>{404, status(404, "NotFound", resource + " \"" + target.name + "\" not found")};
    };
    if (target.name.empty() && method == "GET") {
      if (query.count("resourceVersion") && !query["resourceVersion"].empty() &&
          query["resourceVersion"] != "0" && std::stoull(query["resourceVersion"]) < compactedBelow_) {
        return {410, status(410, "Expired", "The resourceVersion for the provided list is too old.")};
      }
      json items = json::array();
      std::string kind = "List";
      for (const auto& [k, object] : objects) {
        if (!target.namespaceName.empty() && object["metadata"].value("namespace", "") != target.namespaceName) continue;
        if (query.count("fieldSelector") && !fieldsMatch(object, query["fieldSelector"])) continue;
        items.push_back(object);
        kind = object.value("kind", "") + "List";
      }
      return {200, {{"kind", kind}, {"apiVersion", "v1"},
                    {"metadata", {{"resourceVersion", std::to_string(version_)}, {"continue", ""}}},
                    {"items", items}}};
    }
    json body = json::parse(request.body(), nullptr, false);
    if (method == "POST" && target.name.empty()) {
      if (!body.is_object() || !body.contains("metadata") || !body["metadata"].contains("name")) {
        return {422, status(422, "Invalid", "metadata.name: Required value")};
      }
      if (!target.namespaceName.empty()) body["metadata"]["namespace"] = target.namespaceName;
      std::string newKey = body["metadata"].value("namespace", "") + "/" + body["metadata"].value("name", "");
      if (objects.count(newKey)) {
        return {409, status(409, "AlreadyExists", body["metadata"].value("name", "") + " already exists")};
      }
      if (hasStatusSubresource(target.collection)) body.erase("status");
      return {201, store(target.collection, std::move(body), false).second};
    }
    if (found == objects.end()) return notFound();
    if (method == "GET") return {200, found->second};
    if (method == "DELETE") {
      json object = found->second;
      erase(target.collection, key);
      return {200, object};
    }
    if (method == "PUT") {
      if (!body.is_object()) return {400, status(400, "BadRequest", "body is not an object")};
      std::string expected = body["metadata"].value("resourceVersion", "");
      if (!expected.empty() && expected != found->second["metadata"].value("resourceVersion", "")) {
        return {409, status(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again")};
      }
      bool statusOnly = target.subresource == "status";
      json next = statusOnly ? found->second : body;
      if (statusOnly) next["status"] = body.value("status", json::object());
      return {200, store(target.collection, std::move(next), !statusOnly && hasStatusSubresource(target.collection)).second};
    }
    if (method == "PATCH") {
      if (!body.is_object()) return {400, status(400, "BadRequest", "patch is not an object")};
      std::string type(request[http::field::content_type]);
      if (type.rfind("application/merge-patch+json", 0) != 0) {
        return {415, status(415, "UnsupportedMediaType", "only merge patches: " + type)};
      }
      json next = found->second;
      if (target.subresource == "status") {
        json statusPatch = {{"status", body.value("status", json::object())}};
        next.merge_patch(statusPatch);
        return {200, store(target.collection, std::move(next), false).second};
      }
      if (hasStatusSubresource(target.collection)) body.erase("status");
      next.merge_patch(body);
      return {200, store(target.collection, std::move(next), false).second};
    }
    return {405, status(405, "MethodNotAllowed", method + " is not supported")};
  }

  bool serveLog(Stream& stream, const http::request<http::string_body>& request,
                const Target& target, std::map<std::string, std::string>& query) {
    std::string text;
    {
      std::lock_guard lock(mutex_);
      if (!collections_["/pods"].count(target.namespaceName + "/" + target.name)) {
        writeJson(stream, request, 404, status(404, "NotFound", "pods \"" + target.name + "\" not found"));
        return true;
      }
      bool previous = query["previous"] == "true";
      auto log = logs_.find(target.namespaceName + "/" + target.name + "/" + query["container"] +
                            (previous ? "/previous" : ""));
      if (log == logs_.end()) {
        std::string message = previous ? "previous terminated container \"" + query["container"] +
                                             "\" in pod \"" + target.name + "\" not found"
                                       : "container " + query["container"] + " is not valid for pod " + target.name;
        writeJson(stream, request, 400, status(400, "BadRequest", message));
        return true;
      }
      text = log->second;
    }
    if (query.count("tailLines")) {
      size_t lines = std::stoul(query["tailLines"]);
      size_t cut = text.size();
      size_t seen = 0;
      // Count newlines from the end; a trailing newline ends the last line, not a new one.
      for (size_t i = text.size(); i-- > 0;) {
        if (text[i] == '\n' && i + 1 != text.size() && ++seen == lines) {
          cut = i + 1;
          break;
        }
        cut = i;
      }
      if (seen == lines) text = text.substr(cut);
    }
    if (query.count("limitBytes")) {
      size_t limit = std::stoul(query["limitBytes"]);
      if (text.size() > limit) text.resize(limit);
    }
    writeText(stream, request, 200, text, "text/plain");
    return true;
  }

  bool writeChunk(Stream& stream, const std::string& data) {
    std::ostringstream chunk;
    chunk << std::hex << data.size() << "\r\n" << data << "\r\n";
    boost::system::error_code ec;
    net::write(stream, net::buffer(chunk.str()), ec);
    return !ec;
  }

  bool serveWatch(Stream& stream, const Target& target, std::map<std::string, std::string>& query) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Cache-Control: no-cache, private\r\nTransfer-Encoding: chunked\r\n\r\n";
    boost::system::error_code ec;
    net::write(stream, net::buffer(head), ec);
    if (ec) return false;
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::seconds(query.count("timeoutSeconds") ? std::stoul(query["timeoutSeconds"]) : 1800);
    bool bookmarks = query["allowWatchBookmarks"] == "true";
    std::string versionText = query["resourceVersion"];
    std::unique_lock lock(mutex_);
    ++openWatches_;
    changed_.notify_all();
    uint64_t from = versionText.empty() || versionText == "0" ? 0 : std::stoull(versionText);
    uint64_t generation = watchGeneration_;
    uint64_t outages = outages_;  // an outage may be over before this thread wakes to see it
    uint64_t bookmarksSeen = bookmarks_;
    auto finish = [&](bool keepOpen) {
      --openWatches_;
      lock.unlock();
      writeChunk(stream, "");  // the last chunk ends the response; the connection stays usable
      return keepOpen;
    };
    auto inScope = [&](const json& object) {
      return target.namespaceName.empty() ||
             object["metadata"].value("namespace", "") == target.namespaceName;
    };
    std::vector<std::string> lines;
    if (from != 0 && from < compactedBelow_) {
      lines.push_back(json{{"type", "ERROR"},
                           {"object", status(410, "Expired", "too old resource version: " + versionText +
                                                                 " (" + std::to_string(compactedBelow_) + ")")}}
                          .dump());
      for (auto& line : lines) {
        lock.unlock();
        writeChunk(stream, line + "\n");
        lock.lock();
      }
      return finish(true);
    }
    if (from == 0) {
      // Without a resourceVersion a watch starts with ADDED for what exists (watch-http11.jsonl).
      for (const auto& [key, object] : collections_[target.collection]) {
        if (inScope(object)) lines.push_back(json{{"type", "ADDED"}, {"object", object}}.dump());
      }
      from = version_;
    }
    while (true) {
      for (const auto& event : events_) {
        if (event.version <= from || event.collection != target.collection || !inScope(event.object)) continue;
        lines.push_back(json{{"type", event.type}, {"object", event.object}}.dump());
      }
      if (!events_.empty()) from = std::max(from, events_.back().version);
      from = std::max(from, version_);
      if (bookmarks && bookmarksSeen != bookmarks_) {
        bookmarksSeen = bookmarks_;
        std::string kind = "Object";
        lines.push_back(json{{"type", "BOOKMARK"},
                             {"object", {{"kind", kind}, {"apiVersion", "v1"},
                                         {"metadata", {{"resourceVersion", std::to_string(version_)}}}}}}
                            .dump());
      }
      if (!lines.empty()) {
        auto pending = std::move(lines);
        lines.clear();
        lock.unlock();
        for (auto& line : pending) {
          if (!writeChunk(stream, line + "\n")) {
            lock.lock();
            --openWatches_;
            return false;
          }
        }
        lock.lock();
      }
      if (stopping_ || down_ || outages != outages_) {
        --openWatches_;
        return false;
      }
      if (generation != watchGeneration_ || std::chrono::steady_clock::now() >= deadline) {
        return finish(true);
      }
      // With a predicate: an event stored while the lines above were written (lock released)
      // has already notified, and must not wait for the next one.
      changed_.wait_until(lock, deadline, [&] {
        return version_ > from || stopping_ || down_ || outages != outages_ ||
               generation != watchGeneration_ || (bookmarks && bookmarksSeen != bookmarks_);
      });
    }
  }

  const Options options_;
  TempDir dir_;
  std::string caFile_;
  std::string caPem_;
  net::io_context io_;
  ssl::context tls_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread acceptThread_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool down_ = false;
  int failures_ = 0;
  int failureStatus_ = 500;
  bool stalled_ = false;
  std::string stallPrefix_;
  uint64_t watchGeneration_ = 0;
  uint64_t outages_ = 0;
  uint64_t bookmarks_ = 0;
  size_t openWatches_ = 0;
  uint64_t version_ = 100;
  uint64_t compactedBelow_ = 0;
  std::map<std::string, std::map<std::string, json>> collections_;
  std::vector<WatchEvent> events_;
  std::map<std::string, std::string> logs_;
  std::vector<std::string> requests_;
  std::vector<std::string> authorizations_;
  std::set<int> openSockets_;
  std::vector<std::thread> connections_;
};

FakeApiServer::FakeApiServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
FakeApiServer::~FakeApiServer() = default;

uint16_t FakeApiServer::port() const { return impl_->port(); }
std::string FakeApiServer::url() const { return "https://127.0.0.1:" + std::to_string(port()); }
std::string FakeApiServer::caPem() const { return impl_->caPem(); }
std::string FakeApiServer::caFile() const { return impl_->caFile(); }

void FakeApiServer::writeKubeconfig(const std::filesystem::path& path, const std::string& token) const {
  std::string yaml = "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
                     "clusters:\n- name: fake\n  cluster:\n    server: " + url() +
                     "\n    certificate-authority: " + caFile() +
                     "\ncontexts:\n- name: fake\n  context: {cluster: fake, user: tester, namespace: podmortem-system}\n"
                     "users:\n- name: tester\n  user:\n    token: " + token + "\n";
  writeFile(path, yaml);
}

nlohmann::json FakeApiServer::put(const std::string& collection, nlohmann::json object) {
  return impl_->put(collection, std::move(object));
}
void FakeApiServer::remove(const std::string& collection, const std::string& ns, const std::string& name) {
  impl_->remove(collection, ns, name);
}
std::optional<nlohmann::json> FakeApiServer::get(const std::string& collection, const std::string& ns,
                                                 const std::string& name) const {
  return impl_->get(collection, ns, name);
}
std::vector<nlohmann::json> FakeApiServer::list(const std::string& collection) const {
  return impl_->list(collection);
}
void FakeApiServer::setLog(const std::string& ns, const std::string& pod, const std::string& container,
                           bool previous, std::string text) {
  impl_->setLog(ns, pod, container, previous, std::move(text));
}
void FakeApiServer::setDown(bool down) { impl_->setDown(down); }
void FakeApiServer::failNext(int requests, int status) { impl_->failNext(requests, status); }
void FakeApiServer::stall(const std::string& prefix) { impl_->stall(prefix); }
void FakeApiServer::release() { impl_->release(); }
void FakeApiServer::closeWatches() { impl_->closeWatches(); }
void FakeApiServer::compact() { impl_->compact(); }
void FakeApiServer::bookmark() { impl_->bookmark(); }
std::vector<std::string> FakeApiServer::requests() const { return impl_->requests(); }
size_t FakeApiServer::requestCount(const std::string& prefix) const {
  size_t count = 0;
  for (const auto& request : impl_->requests()) {
    if (request.rfind(prefix, 0) == 0) ++count;
  }
  return count;
}
size_t FakeApiServer::openWatches() const { return impl_->openWatches(); }
std::vector<std::string> FakeApiServer::authorizations() const { return impl_->authorizations(); }

}  // namespace podmortem::testing
