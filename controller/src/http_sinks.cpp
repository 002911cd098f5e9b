// The two HTTP sinks: plain JSON (http) and Splunk's HTTP Event Collector (splunk-hec).
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "finding_sinks.h"
#include "http_post.h"

namespace podmortem::controller {

using nlohmann::json;

namespace {

// POSTs the finding as it is, with its idempotency key in a header (the IETF draft's
// Idempotency-Key) so that a receiver can drop a redelivery.
class HttpSink final : public FindingSink {
 public:
  explicit HttpSink(const SinkSettings& settings)
      : settings_(settings), poster_(settings, settings.url) {}

  Delivery deliver(const OutboxRecord& record) override {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!settings_.headersFile.empty()) {
      try {
        headers = readHeadersFile(settings_.headersFile);  // each time: a rotated Secret applies
      } catch (const std::exception& error) {
        return {Delivery::Result::kRetry, error.what(), "configuration"};
      }
    }
    // A structured-field string, as the IETF draft defines the header: quoted.
    headers.emplace_back("Idempotency-Key", "\"" + record.key + "\"");
    return deliveryOf(poster_.post(headers, record.finding));
  }

 private:
  const SinkSettings settings_;
  HttpPoster poster_;
};

std::string hecUrl(const std::string& base) {
  // The collector's base URL gets the JSON event endpoint; a URL with a path is taken as it is.
  auto scheme = base.find("://");
  auto path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos || base.substr(path) == "/") {
    return (path == std::string::npos ? base : base.substr(0, path)) + "/services/collector/event";
  }
  return base;
}

// HEC answers 400 for a malformed event (codes 5, 6, 12, 13) and also for its own configuration
// (7: a wrong index, 10/11: a token that wants indexer acknowledgement, 14/15: indexed fields
// refused): only the former is about the finding; the latter is retried until it is fixed.
Delivery hecDelivery(const HttpAnswer& answer) {
  Delivery delivery = deliveryOf(answer);
  if (delivery.result != Delivery::Result::kRejected) return delivery;
  json body = json::parse(answer.body, nullptr, false);
  int code = body.is_object() && body["code"].is_number_integer() ? body["code"].get<int>() : -1;
  if (code == 5 || code == 6 || code == 12 || code == 13) return delivery;
  delivery.result = Delivery::Result::kRetry;
  delivery.reasonLabel = "configuration";
  delivery.reason += " (a HEC setting: index, token or indexer acknowledgement)";
  return delivery;
}

std::string readToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the HEC token file " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) throw std::runtime_error("the HEC token file " + path + " is empty");
  return token;
}

// One HEC event per finding: the OCSF finding as `event`, its time in seconds, the idempotency
// key as an indexed field (HEC has no idempotency of its own; a search can dedup on it).
class SplunkHecSink final : public FindingSink {
 public:
  SplunkHecSink(const SinkSettings& settings, std::string host)
      : settings_(settings), host_(std::move(host)), poster_(settings, hecUrl(settings.url)) {}

  Delivery deliver(const OutboxRecord& record) override {
    std::string token;
    try {
      token = readToken(settings_.tokenFile);
    } catch (const std::exception& error) {
      return {Delivery::Result::kRetry, error.what(), "configuration"};
    }
    json finding = json::parse(record.finding, nullptr, false);
    int64_t millis = finding.is_object() ? finding.value("time", record.createdMillis) : record.createdMillis;
    json event = {{"time", static_cast<double>(millis) / 1000.0},
                  {"host", host_},
                  {"source", "podmortem"},
                  {"sourcetype", settings_.sourcetype},
                  {"event", std::move(finding)},
                  {"fields", {{"idempotency_key", record.key}, {"pod", record.pod}}}};
    if (!settings_.index.empty()) event["index"] = settings_.index;
    auto answer = poster_.post({{"Authorization", "Splunk " + token}}, event.dump());
    return hecDelivery(answer);
  }

 private:
  const SinkSettings settings_;
  const std::string host_;
  HttpPoster poster_;
};

}  // namespace

std::unique_ptr<FindingSink> makeHttpSink(const SinkSettings& settings) {
  return std::make_unique<HttpSink>(settings);
}

std::unique_ptr<FindingSink> makeSplunkHecSink(const SinkSettings& settings, std::string host) {
  return std::make_unique<SplunkHecSink>(settings, std::move(host));
}

}  // namespace podmortem::controller
