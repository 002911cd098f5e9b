#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "podmortem/core/file_io.h"
#include "podmortem/evidence/signer.h"
#include "podmortem/report/report.h"

namespace podmortem::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kReportUsage =
    "Usage: podmortem report BUNDLE [--out FILE] [--format html|json] [--key FILE]\n"
    "\n"
    "Writes what happened to a pod, from one evidence bundle (a snapshot folder), on one time\n"
    "axis: the verification result first, then the pod and policy, then a timeline merging the\n"
    "audit trail (admission and audit events, one per request, with exec commands and source\n"
    "IPs), the pod's Kubernetes events, its container log lines, the capture, its actions and\n"
    "addenda, and the artifacts with their SHA-256. The HTML page is self-contained (it loads\n"
    "nothing), filterable by actor and kind, and links each entry to the artifact it comes from.\n"
    "\n"
    "Flags:\n"
    "  --out FILE        write here (default: standard output); links are made relative to it\n"
    "  --format FORMAT   html (default) or json (the same timeline as data)\n"
    "  --key FILE        require the bundle's signature by this public key (as verify --key)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 written and the bundle is intact, 1 written but the bundle does not verify,\n"
    "2 usage error or BUNDLE is not a snapshot folder.\n";

}  // namespace

int reportCommand(Arguments& args) {
  std::string bundle, out, format = "html", keyFile;
  while (!args.done()) {
    if (auto flag = args.nextFlag()) {
      if (*flag == "--help" || *flag == "-h") {
        std::fputs(kReportUsage, stdout);
        return 0;
      }
      if (*flag == "--out") {
        out = args.flagValue(*flag);
      } else if (*flag == "--format") {
        format = args.flagValue(*flag);
        if (format != "html" && format != "json") return usageError(kReportUsage, "--format must be html or json");
      } else if (*flag == "--key") {
        keyFile = args.flagValue(*flag);
      } else {
        return usageError(kReportUsage, "unknown flag " + *flag);
      }
    } else if (bundle.empty()) {
      bundle = args.nextPositional();
    } else {
      return usageError(kReportUsage, "only one BUNDLE may be given");
    }
  }
  if (bundle.empty()) return usageError(kReportUsage, "no BUNDLE given");
  std::unique_ptr<evidence::SignatureVerifier> verifier;
  if (!keyFile.empty()) {
    try {
      verifier = evidence::loadSignatureVerifier(keyFile);
    } catch (const std::exception& error) {
      return usageError(kReportUsage, error.what());
    }
  }
  report::TimelineOptions options;
  options.verifier = verifier.get();
  // Links from where the page is read to the bundle's files.
  std::error_code ec;
  fs::path from = out.empty() ? fs::current_path(ec) : fs::absolute(out, ec).parent_path();
  fs::path link = fs::absolute(bundle, ec).lexically_normal().lexically_relative(from.lexically_normal());
  options.linkBase = link.empty() || link == "." ? "" : link.generic_string() + "/";
  auto timeline = report::buildTimeline(bundle, options);
  if (!timeline.ok()) {
    std::fprintf(stderr, "podmortem report: %s\n", timeline.error().message.c_str());
    return 2;
  }
  std::string text = format == "json" ? timeline->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                                      : report::renderHtml(*timeline);
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else if (auto written = core::fileio::replaceFile(out, text); !written.ok()) {
    std::fprintf(stderr, "podmortem report: %s\n", written.error().message.c_str());
    return 2;
  }
  bool intact = (*timeline)["verification"].value("intact", false);
  if (!intact) std::fprintf(stderr, "podmortem report: %s does not verify: the report says what failed\n", bundle.c_str());
  return intact ? 0 : 1;
}

}  // namespace podmortem::cli
