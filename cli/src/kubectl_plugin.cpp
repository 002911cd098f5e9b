// kubectl podmortem: the responder's commands against a cluster (list, get, verify, report).
// A download goes through an EvidenceDownload, so Kubernetes RBAC decides who may and the API
// server's audit log records who did (see evidence_downloads.h).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "arguments.h"
#include "https_get.h"
#include "podmortem/cli/cli.h"
#include "podmortem/core/file_io.h"
#include "podmortem/core/json_path.h"
#include "podmortem/core/sha256.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/core/version.h"
#include "podmortem/evidence/bundle_archive.h"
#include "podmortem/evidence/signer.h"
#include "podmortem/evidence/store.h"
#include "podmortem/evidence/verifier.h"
#include "podmortem/kube/connection.h"
#include "podmortem/kube/rest_client.h"
#include "podmortem/kube/settings.h"
#include "podmortem/report/report.h"

namespace podmortem::cli {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr auto& at = core::jsonAt;
constexpr auto& text = core::jsonText;
using Clock = std::chrono::system_clock;

namespace {

constexpr const char* kPluginUsage =
    "Usage: kubectl podmortem <command> [flags]\n"
    "\n"
    "podmortem's evidence, from the cluster. Downloads are EvidenceDownloads: Kubernetes RBAC\n"
    "decides who may (the podmortem-evidence-admin ClusterRole) and the audit log records who did.\n"
    "\n"
    "Commands:\n"
    "  list            EvidenceSnapshots: id, pod, policy, phase, trigger, age\n"
    "  get ID          download a snapshot's bundle into DIR/ID (-o DIR, default .)\n"
    "  verify ID       download it into a temporary folder and verify it (as podmortem verify)\n"
    "  report ID       download it and write its HTML timeline (--out FILE, default ID.html)\n"
    "  version         print the version\n"
    "\n"
    "Flags:\n"
    "  --kubeconfig FILE        default $KUBECONFIG, then ~/.kube/config\n"
    "  --context NAME           a context of the kubeconfig\n"
    "  --podmortem-namespace NS where podmortem runs (default podmortem-system)\n"
    "  --podmortem-url URL      reach the replica's download port here (a port-forward:\n"
    "                           https://127.0.0.1:8444) instead of through the API server\n"
    "  --ca-file FILE           CA of podmortem's serving certificate, with --podmortem-url\n"
    "  -o, --output-dir DIR     get: where the bundle goes (default .)\n"
    "  --out FILE               report: the page (default ID.html)\n"
    "  --format html|json       report: the page or the timeline as data\n"
    "  --key FILE               verify, report: require the bundle's signature by this key\n"
    "  --timeout DURATION       how long to wait for podmortem's answer (default 60s)\n"
    "\n"
    "Exit status: 0 done (verify: intact), 1 refused, failed or not intact, 2 usage error.\n";

struct PluginOptions {
  std::string command;
  std::string id;
  std::string kubeconfig;
  std::string context;
  std::string podmortemNamespace = "podmortem-system";
  std::string podmortemUrl;
  std::string caFile;
  std::string outputDir = ".";
  std::string out;
  std::string format = "html";
  std::string keyFile;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

int usage(const std::string& message) {
  std::fprintf(stderr, "kubectl podmortem: %s\n\n%s", message.c_str(), kPluginUsage);
  return 2;
}

int failure(const std::string& message) {
  std::fprintf(stderr, "kubectl podmortem: %s\n", message.c_str());
  return 1;
}

std::unique_ptr<kube::Client> connect(const PluginOptions& options) {
  kube::ClientSettings settings;
  settings.mode = kube::Mode::kKubeconfig;
  settings.kubeconfig = options.kubeconfig;
  settings.context = options.context;
  auto connection = kube::resolveConnection(settings);
  if (!connection) throw std::runtime_error("no kubeconfig: set --kubeconfig or $KUBECONFIG");
  kube::initializeThreadPool(2);
  return kube::makeRestClient(*connection, {}, nullptr);
}

std::string age(const json& created) {
  auto micros = core::parseTimestampMicros(text(created));
  if (!micros) return "?";
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count() -
                 *micros / 1'000'000;
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

int listCommand(const PluginOptions& options, kube::Client& client) {
  // Every namespace first (EvidenceSnapshots live in podmortem's, but a cluster may run several);
  // a user who may only read podmortem's namespace gets that.
  kube::Request request;
  request.verb = "list";
  request.resource = "evidencesnapshots";
  request.path = "/apis/podmortem.io/v1alpha1/evidencesnapshots";
  auto response = client.send(request);
  if (response.status == 403) {
    request.path = "/apis/podmortem.io/v1alpha1/namespaces/" + options.podmortemNamespace + "/evidencesnapshots";
    response = client.send(request);
  }
  if (!response.ok()) return failure(response.asError("list EvidenceSnapshots").message);
  json list = json::parse(response.body, nullptr, false);
  std::vector<json> items;
  if (list.is_object() && list["items"].is_array()) items.assign(list["items"].begin(), list["items"].end());
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return text(at(a, {"metadata", "creationTimestamp"})) < text(at(b, {"metadata", "creationTimestamp"}));
  });
  std::printf("%-32s  %-40s  %-20s  %-9s  %-16s  %-12s  %s\n", "ID", "POD", "POLICY", "PHASE", "TRIGGER", "USER", "AGE");
  for (const json& item : items) {
    std::string pod = text(at(item, {"spec", "pod", "namespace"})) + "/" + text(at(item, {"spec", "pod", "name"}));
    std::string trigger = text(at(item, {"spec", "trigger", "operation"})) + " " + text(at(item, {"spec", "trigger", "resource"}));
    std::printf("%-32s  %-40s  %-20s  %-9s  %-16s  %-12s  %s\n", text(at(item, {"metadata", "name"})).c_str(), pod.c_str(),
                text(at(item, {"spec", "policy"})).c_str(), text(at(item, {"status", "phase"})).c_str(), trigger.c_str(),
                text(at(item, {"spec", "trigger", "user"})).c_str(), age(at(item, {"metadata", "creationTimestamp"})).c_str());
  }
  if (items.empty()) std::fprintf(stderr, "no EvidenceSnapshots\n");
  return 0;
}

// The bundle, downloaded through an EvidenceDownload into `into`/<id>; its folder.
core::Result<std::string> download(const PluginOptions& options, kube::Client& client, const std::string& into) {
  auto failed = [](const std::string& message) { return core::makeError(core::ErrorCode::kUnavailable, message); };
  const std::string collection =
      "/apis/podmortem.io/v1alpha1/namespaces/" + options.podmortemNamespace + "/evidencedownloads";
  kube::Request create;
  create.method = "POST";
  create.verb = "create";
  create.resource = "evidencedownloads";
  create.path = collection;
  create.body = json{{"apiVersion", "podmortem.io/v1alpha1"},
                     {"kind", "EvidenceDownload"},
                     {"metadata", {{"generateName", options.id.substr(0, 8) + "-"}}},
                     {"spec", {{"snapshot", options.id}}}}
                    .dump();
  auto created = client.send(create);
  if (!created.ok()) {
    std::string message = created.asError("create EvidenceDownload").message;
    if (created.status == 403) message += " (downloading evidence needs the podmortem-evidence-admin role)";
    return core::makeError(created.status == 403 ? core::ErrorCode::kPermissionDenied : core::ErrorCode::kUnavailable,
                           message);
  }
  const std::string name = text(at(json::parse(created.body, nullptr, false), {"metadata", "name"}));
  // Never an empty name: DELETE of the bare collection would remove everyone's downloads.
  if (name.empty()) return failed("create EvidenceDownload: the answer names no object");
  // Whatever happens next, the request does not stay behind (podmortem removes it otherwise).
  struct Cleanup {
    kube::Client& client;
    std::string path;
    ~Cleanup() {
      kube::Request remove;
      remove.method = "DELETE";
      remove.verb = "delete";
      remove.resource = "evidencedownloads";
      remove.path = path;
      (void)client.send(remove);
    }
  } cleanup{client, collection + "/" + name};

  // podmortem answers in status; wait for it.
  json status;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (true) {
    kube::Request get;
    get.resource = "evidencedownloads";
    get.path = collection + "/" + name;
    auto answer = client.send(get);
    if (answer.ok()) status = at(json::parse(answer.body, nullptr, false), {"status"});
    if (!text(at(status, {"phase"})).empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return failed("EvidenceDownload " + name + " got no answer: is podmortem running, and does a replica hold "
                    "snapshot " + options.id + "?");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (text(status["phase"]) != "Ready") {
    return failed("podmortem refused EvidenceDownload " + name + ": " + text(status["message"]));
  }

  const fs::path bundle = fs::path(into) / options.id;
  if (status["objects"].is_array()) {
    // The artifacts are in S3: each file from its pre-signed URL.
    std::error_code ec;
    if (fs::exists(bundle, ec)) return failed(bundle.string() + " exists already");
    for (const json& object : status["objects"]) {
      std::string path = text(at(object, {"path"}));
      if (path.empty() || path.front() == '/' || path.find("..") != std::string::npos) return failed("unsafe path " + path);
      auto bytes = httpsGet(text(at(object, {"url"})), "", {});
      // An optional file (the attestation of an unsigned bundle) may be absent: 404, or 403 where the
      // signer may not list the bucket.
      bool absent = !bytes.ok() && (bytes.error().code == core::ErrorCode::kNotFound ||
                                    bytes.error().message.find(": 403 ") != std::string::npos);
      if (absent && at(object, {"optional"}) == true) continue;
      if (!bytes.ok()) return failed(path + ": " + bytes.error().message);
      fs::create_directories((bundle / path).parent_path(), ec);
      uint64_t written = 0;
      if (auto saved = core::fileio::writeNewFile((bundle / path).string(), *bytes, written); !saved.ok()) return saved.error();
    }
  } else {
    core::Result<std::string> archive = std::string();
    std::vector<std::pair<std::string, std::string>> headers = {{"X-Podmortem-Token", text(status["token"])}};
    if (!options.podmortemUrl.empty()) {
      std::string base = options.podmortemUrl;
      while (!base.empty() && base.back() == '/') base.pop_back();
      archive = httpsGet(base + text(status["path"]), options.caFile, headers);
    } else {
      kube::Request proxied;
      proxied.resource = "pods/proxy";
      proxied.path = text(status["proxyPath"]);
      proxied.headers = headers;
      proxied.maxBodyBytes = size_t{4} << 30;
      auto answer = client.send(proxied);
      if (answer.ok()) {
        archive = answer.body;
      } else {
        archive = failed(answer.asError("GET " + proxied.path).message);
      }
    }
    if (!archive.ok()) return archive.error();
    // Only a folder named after the snapshot: nothing else lands in the user's folder.
    auto root = evidence::extractBundle(*archive, into, options.id);
    if (!root.ok()) return root.error();
  }
  // The download against the digest the EvidenceSnapshot recorded, outside the replica's volume.
  std::string manifest;
  if (auto read = core::fileio::readFile((bundle / evidence::kManifestFileName).string(), manifest); !read.ok()) {
    return read.error();
  }
  std::string recorded = text(status["manifestSHA256"]);
  if (!recorded.empty() && core::sha256Hex(manifest) != recorded) {
    return failed("the downloaded manifest.json has SHA-256 " + core::sha256Hex(manifest) +
                  ", the EvidenceSnapshot recorded " + recorded + ": do not trust this copy");
  }
  std::fprintf(stderr, "downloaded snapshot %s from replica %s into %s%s\n", options.id.c_str(),
               text(status["replica"]).c_str(), bundle.string().c_str(),
               recorded.empty() ? "" : " (manifest.json matches the EvidenceSnapshot's SHA-256)");
  return bundle.string();
}

// A temporary folder, removed with everything in it.
struct TempFolder {
  fs::path path;
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "kubectl-podmortem-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot make a temporary folder");
    path = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

int verifyDownloaded(const PluginOptions& options, kube::Client& client) {
  TempFolder temp;
  auto bundle = download(options, client, temp.path.string());
  if (!bundle.ok()) return failure(bundle.error().message);
  std::unique_ptr<evidence::SignatureVerifier> verifier;
  if (!options.keyFile.empty()) verifier = evidence::loadSignatureVerifier(options.keyFile);
  auto report = evidence::verifyEvidence(*bundle, verifier.get());
  for (const auto& problem : report.problems) {
    std::printf("PROBLEM  %s: %s\n", fs::path(problem.path).lexically_relative(temp.path).c_str(), problem.message.c_str());
  }
  for (const auto& missing : report.notCaptured) {
    std::printf("missing  %s: %s\n", fs::path(missing.path).lexically_relative(temp.path).c_str(), missing.message.c_str());
  }
  for (const auto& note : report.notes) std::printf("note     %s\n", note.c_str());
  std::printf("%s: snapshot %s, %zu artifacts, %zu signatures checked; %zu problems\n",
              report.ok() ? "INTACT" : "TAMPERED", options.id.c_str(), report.artifactsChecked,
              report.signaturesChecked, report.problems.size());
  return report.ok() ? 0 : 1;
}

int reportDownloaded(const PluginOptions& options, kube::Client& client) {
  std::string out = options.out.empty() ? options.id + (options.format == "json" ? ".json" : ".html") : options.out;
  fs::path folder = fs::absolute(out).parent_path();
  auto bundle = download(options, client, folder.string());
  if (!bundle.ok()) return failure(bundle.error().message);
  std::unique_ptr<evidence::SignatureVerifier> verifier;
  if (!options.keyFile.empty()) verifier = evidence::loadSignatureVerifier(options.keyFile);
  report::TimelineOptions timelineOptions;
  timelineOptions.verifier = verifier.get();
  timelineOptions.linkBase = options.id + "/";
  auto timeline = report::buildTimeline(*bundle, timelineOptions);
  if (!timeline.ok()) return failure(timeline.error().message);
  std::string page = options.format == "json" ? timeline->dump(2, ' ', false, json::error_handler_t::replace) + "\n"
                                              : report::renderHtml(*timeline);
  if (auto written = core::fileio::replaceFile(out, page); !written.ok()) return failure(written.error().message);
  std::fprintf(stderr, "report written to %s\n", out.c_str());
  return (*timeline)["verification"].value("intact", false) ? 0 : 1;
}

std::chrono::milliseconds parseTimeout(const std::string& value) {
  char* end = nullptr;
  double number = std::strtod(value.c_str(), &end);
  std::string unit = end ? end : "";
  double scale = unit == "ms" ? 1 : unit == "s" || unit.empty() ? 1000 : unit == "m" ? 60000 : -1;
  if (scale < 0 || !(number > 0) || number * scale > 86'400'000) throw UsageError{"--timeout must be like 30s or 2m, at most a day"};
  return std::chrono::milliseconds(static_cast<int64_t>(number * scale));
}

}  // namespace

int runKubectlPlugin(int argc, char** argv) {
  PluginOptions options;
  try {
    Arguments args(argc, argv, 1);
    while (!args.done()) {
      if (auto flag = args.nextFlag()) {
        if (*flag == "--help" || *flag == "-h") {
          std::fputs(kPluginUsage, stdout);
          return 0;
        }
        if (*flag == "--kubeconfig") options.kubeconfig = args.flagValue(*flag);
        else if (*flag == "--context") options.context = args.flagValue(*flag);
        else if (*flag == "--podmortem-namespace") options.podmortemNamespace = args.flagValue(*flag);
        else if (*flag == "--podmortem-url") options.podmortemUrl = args.flagValue(*flag);
        else if (*flag == "--ca-file") options.caFile = args.flagValue(*flag);
        else if (*flag == "-o" || *flag == "--output-dir") options.outputDir = args.flagValue(*flag);
        else if (*flag == "--out") options.out = args.flagValue(*flag);
        else if (*flag == "--format") options.format = args.flagValue(*flag);
        else if (*flag == "--key") options.keyFile = args.flagValue(*flag);
        else if (*flag == "--timeout") options.timeout = parseTimeout(args.flagValue(*flag));
        else return usage("unknown flag " + *flag);
      } else if (options.command.empty()) {
        options.command = args.nextPositional();
      } else if (options.id.empty()) {
        options.id = args.nextPositional();
      } else {
        return usage("unexpected argument " + args.nextPositional());
      }
    }
  } catch (const UsageError& error) {
    return usage(error.message);
  }
  if (options.command.empty()) return usage("no command given");
  if (options.command == "version") {
    std::printf("kubectl-podmortem %.*s\n", static_cast<int>(core::version().size()), core::version().data());
    return 0;
  }
  bool needsId = options.command == "get" || options.command == "verify" || options.command == "report";
  if (!needsId && options.command != "list") return usage("unknown command \"" + options.command + "\"");
  if (needsId && (options.id.size() != 32 || options.id.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return usage(options.command + " needs a snapshot ID (32 hex characters, from kubectl podmortem list)");
  }
  if (options.format != "html" && options.format != "json") return usage("--format must be html or json");
  try {
    auto client = connect(options);
    if (options.command == "list") return listCommand(options, *client);
    if (options.command == "verify") return verifyDownloaded(options, *client);
    if (options.command == "report") return reportDownloaded(options, *client);
    auto bundle = download(options, *client, options.outputDir);
    if (!bundle.ok()) return failure(bundle.error().message);
    std::printf("%s\n", bundle->c_str());
    return 0;
  } catch (const std::exception& error) {
    return failure(error.what());
  }
}

}  // namespace podmortem::cli
