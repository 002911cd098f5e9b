#include "podmortem/controller/settings.h"

#include <cctype>
#include <set>

namespace podmortem::controller {

void CaptureSettings::bind(core::SectionBinder<CaptureSettings>& keys) {
  keys.integer("workers", &CaptureSettings::workers, 1, 256,
               "threads that run collectors and write bundles");
}

void ClusterSettings::bind(core::SectionBinder<ClusterSettings>& keys) {
  keys.flag("evidenceRecords", &ClusterSettings::evidenceRecords,
            "record every snapshot as an EvidenceSnapshot object");
  keys.duration("statusInterval", &ClusterSettings::statusInterval,
                "at most one ForensicPolicy status write per policy this often");
}

void DownloadSettings::bind(core::SectionBinder<DownloadSettings>& keys) {
  keys.text("listen", &DownloadSettings::listen,
            "address of the HTTPS download server (GET /evidence/{id}, with an EvidenceDownload's token)")
      .whenUnset("no download server");
  keys.duration("tokenTtl", &DownloadSettings::tokenTtl,
                "how long an EvidenceDownload's token or pre-signed URLs are good for");
  keys.integer("maxBundleBytes", &DownloadSettings::maxBundleBytes, 1 << 20, uint64_t{16} << 30,
               "largest bundle served (it is archived in memory), in bytes");
  keys.duration("writeTimeout", &DownloadSettings::writeTimeout, "how long sending one bundle may take");
}

core::Status DownloadSettings::validate() const {
  if (tokenTtl < std::chrono::seconds(10) || tokenTtl > std::chrono::hours(12)) {
    return core::makeError(core::ErrorCode::kInvalidArgument, "download.tokenTtl must be between 10s and 12h");
  }
  if (!listen.empty()) {
    try {
      (void)core::parseHostPort("download.listen", listen);
    } catch (const std::exception& error) {
      return core::makeError(core::ErrorCode::kInvalidArgument, error.what());
    }
  }
  return {};
}

}  // namespace podmortem::controller

namespace podmortem::controller {

void SinkSettings::bind(core::SectionBinder<SinkSettings>& keys) {
  keys.text("name", &SinkSettings::name, "a sink's name: its metrics label and outbox cursor");
  keys.choice("type", &SinkSettings::type,
              {{"http", SinkType::kHttp}, {"splunk-hec", SinkType::kSplunkHec},
               {"syslog", SinkType::kSyslog}},
              "http (POST JSON), splunk-hec (HTTP Event Collector) or syslog (RFC 5424 over TCP)");
  keys.text("url", &SinkSettings::url,
            "http: the URL findings are POSTed to; splunk-hec: the collector's base URL");
  keys.address("address", &SinkSettings::address, "syslog: the receiver's host:port");
  keys.flag("tls", &SinkSettings::tls, "syslog: TLS (RFC 5425); false sends plain TCP");
  keys.path("caFile", &SinkSettings::caFile, "CA bundle the sink's certificate must chain to")
      .whenUnset("the system's CAs");
  keys.path("certFile", &SinkSettings::certFile, "client certificate for sinks that ask for one");
  keys.path("keyFile", &SinkSettings::keyFile, "the client certificate's key");
  keys.path("headersFile", &SinkSettings::headersFile,
            "http: a file of \"Name: value\" lines sent with every request (mount a Secret)");
  keys.path("tokenFile", &SinkSettings::tokenFile, "splunk-hec: a file holding the HEC token");
  keys.text("sourcetype", &SinkSettings::sourcetype, "splunk-hec: the events' sourcetype");
  keys.text("index", &SinkSettings::index, "splunk-hec: the index")
      .whenUnset("the token's default index");
  keys.integer("facility", &SinkSettings::facility, 0, 23,
               "syslog: the facility number (16 is local0)");
  keys.duration("timeout", &SinkSettings::timeout, "how long one delivery may take");
}

core::Status SinkSettings::validate() const {
  auto invalid = [this](const std::string& what) {
    return core::makeError(core::ErrorCode::kInvalidArgument,
                           "export sink \"" + name + "\": " + what);
  };
  if (name.empty()) return core::makeError(core::ErrorCode::kInvalidArgument, "export sink: name is required");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return invalid("name may hold only letters, digits, '-' and '_'");
    }
  }
  switch (type) {
    case SinkType::kHttp:
    case SinkType::kSplunkHec:
      if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
        return invalid("url must start with https:// (or http:// for a receiver on the node)");
      }
      if (type == SinkType::kSplunkHec && tokenFile.empty()) return invalid("tokenFile is required");
      if (url.rfind("http://", 0) == 0 && (!headersFile.empty() || !tokenFile.empty())) {
        return invalid("a headersFile or tokenFile over http:// would send the secret in clear text: use https://");
      }
      break;
    case SinkType::kSyslog:
      if (address.empty()) return invalid("address (host:port) is required");
      if (core::parseHostPort("address", address).port == 0) return invalid("address needs a port");
      break;
  }
  if (certFile.empty() != keyFile.empty()) return invalid("certFile and keyFile go together");
  return {};
}

void ExportSettings::bind(core::SectionBinder<ExportSettings>& keys) {
  keys.records("sinks", &ExportSettings::sinks,
               "where findings go: a list of sinks, each with the keys below");
  keys.path("outboxDir", &ExportSettings::outboxDir,
            "folder of the durable outbox findings wait in until every sink has them")
      .whenUnset(".outbox in the evidence folder");
  keys.integer("maxPending", &ExportSettings::maxPending, 1, 10'000'000,
               "findings kept for a sink that is behind; past it the oldest are dropped");
  keys.duration("maxBackoff", &ExportSettings::maxBackoff,
                "longest wait between two delivery attempts to a failing sink");
}

core::Status ExportSettings::validate() const {
  std::set<std::string> names;
  for (const auto& sink : sinks) {
    if (auto status = sink.validate(); !status.ok()) return status;
    if (!names.insert(sink.name).second) {
      return core::makeError(core::ErrorCode::kInvalidArgument,
                             "export sinks: the name \"" + sink.name + "\" is used twice");
    }
  }
  return {};
}

}  // namespace podmortem::controller
