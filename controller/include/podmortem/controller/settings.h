#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "podmortem/core/config.h"

namespace podmortem::controller {

// evidence.workers: how many captures run at once.
struct CaptureSettings {
  uint32_t workers = 4;

  static void bind(core::SectionBinder<CaptureSettings>& keys);
  core::Status validate() const { return {}; }
};

// kubernetes.* of what the controller writes to the cluster.
struct ClusterSettings {
  bool evidenceRecords = true;  // create EvidenceSnapshot objects
  std::chrono::milliseconds statusInterval{std::chrono::seconds(10)};  // policy status writes

  static void bind(core::SectionBinder<ClusterSettings>& keys);
  core::Status validate() const { return {}; }
};

// download.*: the HTTPS port EvidenceDownloads (kubectl podmortem get) fetch bundles from.
struct DownloadSettings {
  std::string listen = "0.0.0.0:8444";  // empty: no download server, EvidenceDownloads unanswered
  std::chrono::milliseconds tokenTtl{std::chrono::minutes(5)};
  // A bundle is archived in memory to be served: larger ones are refused (413), not risked.
  uint64_t maxBundleBytes = uint64_t{256} << 20;
  std::chrono::milliseconds writeTimeout{std::chrono::minutes(10)};  // sending one bundle

  static void bind(core::SectionBinder<DownloadSettings>& keys);
  core::Status validate() const;
};

}  // namespace podmortem::controller

namespace podmortem::controller {

enum class SinkType { kHttp, kSplunkHec, kSyslog };

// One item of export.sinks: a place findings are delivered to. Secrets (headers, the HEC
// token) come from files, so that they are mounted from a Secret and never sit in the config.
struct SinkSettings {
  std::string name;  // unique: the metrics' sink label and the outbox cursor's file name
  SinkType type = SinkType::kHttp;
  std::string url;          // http: where findings are POSTed; splunk-hec: the HEC base URL
  std::string address;      // syslog: host:port
  bool tls = true;          // syslog: RFC 5425 TLS (false: plain TCP, for a local relay only)
  std::string caFile;       // CA bundle the sink's certificate must chain to; empty: system CAs
  std::string certFile;     // client certificate, when the sink asks for one
  std::string keyFile;
  std::string headersFile;  // http: "Name: value" lines added to every request
  std::string tokenFile;    // splunk-hec: the HEC token
  std::string sourcetype = "ocsf:detection_finding";  // splunk-hec
  std::string index;                                  // splunk-hec; empty: the token's default
  uint32_t facility = 16;                             // syslog: local0
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // per delivery

  static void bind(core::SectionBinder<SinkSettings>& keys);
  core::Status validate() const;
};

// export.*: findings (OCSF Detection Findings) for the SOC, from a durable outbox.
struct ExportSettings {
  std::vector<SinkSettings> sinks;
  std::string outboxDir;  // empty: ".outbox" in the evidence folder (on the evidence volume)
  uint32_t maxPending = 10'000;  // findings kept for a lagging sink; the oldest go first
  std::chrono::milliseconds maxBackoff{std::chrono::minutes(5)};  // between retries

  static void bind(core::SectionBinder<ExportSettings>& keys);
  core::Status validate() const;
};

}  // namespace podmortem::controller
