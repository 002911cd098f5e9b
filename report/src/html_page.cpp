#include <openssl/evp.h>

#include "page_assets.h"
#include "podmortem/core/base64.h"
#include "podmortem/report/report.h"

namespace podmortem::report {

using nlohmann::json;

namespace {

// A member, or null: [] of a const json asserts when the key is missing.
const json& get(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto found = object.find(key);
  return found == object.end() ? kNull : *found;
}

std::string text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string escape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html(const json& value) { return escape(text(value)); }

// An artifact's link: its path percent-encoded but for the separators.
std::string href(const std::string& base, const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : base + path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return escape(out);
}

// 'sha256-<base64>' of an inline style or script, for the Content-Security-Policy.
std::string cspHash(std::string_view source) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(source.data(), source.size(), digest, &size, EVP_sha256(), nullptr);
  return "'sha256-" + core::base64Encode(std::string_view(reinterpret_cast<char*>(digest), size)) + "'";
}

// "2021-06-01T10:00:00.123456Z" shown as "2021-06-01 10:00:00.123456".
std::string shownTime(const std::string& time) {
  std::string out = time;
  if (out.size() > 10 && out[10] == 'T') out[10] = ' ';
  if (!out.empty() && out.back() == 'Z') out.pop_back();
  return out;
}

void verificationSection(const json& report, std::string& page) {
  const json& verification = get(report, "verification");
  bool intact = verification.value("intact", false);
  page += "<section id=\"verification\" class=\"" + std::string(intact ? "intact" : "tampered") + "\">\n";
  page += "<h2>" + std::string(intact ? "Intact" : "Tampered: the bundle does not verify") + "</h2>\n<p>";
  page += std::to_string(verification.value("artifactsChecked", 0)) + " artifacts and " +
          std::to_string(verification.value("addendaChecked", 0)) + " addenda checked against their manifests; ";
  page += verification.value("signed", false)
              ? std::to_string(verification.value("signaturesChecked", 0)) + " signature(s) checked with the key given"
              : std::string("signatures not checked (no key given: podmortem report --key PUB)");
  if (verification.value("ledgerEntries", 0) > 0) {
    page += "; custody ledger of " + std::to_string(verification.value("ledgerEntries", 0)) +
            " entries, head <span class=\"hash\">" + html(get(verification, "ledgerHeadSha256")) + "</span>";
  }
  page += ".</p>\n";
  auto list = [&](const char* title, const json& items, const char* cls) {
    if (!items.is_array() || items.empty()) return;
    page += "<p><strong>" + std::string(title) + "</strong></p><ul>\n";
    for (const json& item : items) {
      page += "<li class=\"" + std::string(cls) + "\">" +
              (item.is_object() ? "<code>" + html(get(item, "path")) + "</code>: " + html(get(item, "message")) : html(item)) +
              "</li>\n";
    }
    page += "</ul>\n";
  };
  list("What failed", get(verification, "problems"), "problem");
  list("Not captured (recorded in the manifest, not tampering)", get(verification, "notCaptured"), "muted");
  list("Notes", get(verification, "notes"), "muted");
  page += "</section>\n";
}

void summarySection(const json& report, std::string& page) {
  const json& snapshot = get(report, "snapshot");
  const json& pod = get(snapshot, "pod");
  const json& trigger = get(snapshot, "trigger");
  page += "<section id=\"summary\"><h2>Snapshot</h2><table>\n";
  auto row = [&](const char* name, const std::string& value) {
    page += "<tr><th scope=\"row\">" + std::string(name) + "</th><td>" + value + "</td></tr>\n";
  };
  row("Pod", html(get(pod, "namespace")) + "/" + html(get(pod, "name")) + " <span class=\"muted\">uid " +
                 html(get(pod, "uid")) + "</span>");
  row("Node", html(get(pod, "node")));
  row("Policy", html(get(snapshot, "policy")));
  row("Trigger", html(get(trigger, "source")) + " " + html(get(trigger, "name")) + ": " +
                     html(get(trigger, "operation")) + " " + html(get(trigger, "resource")) + " by <strong>" +
                     html(get(trigger, "user")) + "</strong> at <time>" + html(get(trigger, "time")) + "</time>");
  row("Phase", html(get(snapshot, "phase")));
  row("Captured", "<time>" + html(get(snapshot, "createdAt")) + "</time> to <time>" + html(get(snapshot, "completedAt")) + "</time>");
  row("Snapshot", "<code>" + html(get(snapshot, "id")) + "</code>");
  page += "</table></section>\n";
}

// The detail of an entry: what a responder looks for first (the command, where it came from, the
// answer), then the rest folded away.
std::string details(const json& entry) {
  const json& detail = get(entry, "detail");
  if (!detail.is_object()) return "";
  static const std::pair<const char*, const char*> kFirst[] = {
      {"command", "command"}, {"container", "container"}, {"sourceIPs", "source IPs"}, {"status", "status"},
      {"authorization", "authz"}, {"dryRun", "dry run"}, {"impersonatedUser", "as"}, {"type", "type"},
      {"count", "count"}};
  static const std::pair<const char*, const char*> kMore[] = {
      {"groups", "groups"}, {"userAgent", "user agent"}, {"stages", "stages"}, {"requestUid", "request"},
      {"auditID", "audit ID"}, {"requestURI", "URI"}};
  auto list = [&](const auto& fields) {
    std::string out;
    for (const auto& [key, label] : fields) {
      const json& value = get(detail, key);
      std::string shown;
      if (value.is_array()) {
        for (const json& part : value) shown += (shown.empty() ? "" : key == std::string("command") ? " " : ", ") + text(part);
      } else {
        shown = text(value);
      }
      if (shown.empty()) continue;
      bool code = key == std::string("command") || key == std::string("requestURI") || key == std::string("auditID");
      out += "<dt>" + std::string(label) + "</dt><dd>" + (code ? "<code>" + escape(shown) + "</code>" : escape(shown)) + "</dd>";
    }
    return out;
  };
  std::string first = list(kFirst);
  std::string more = list(kMore);
  std::string out = first.empty() ? "" : "<dl>" + first + "</dl>";
  if (!more.empty()) out += "<details><summary>more</summary><dl>" + more + "</dl></details>";
  return out;
}

void timelineSection(const json& report, std::string& page) {
  const std::string base = text(get(report, "linkBase"));
  page += "<section id=\"timeline\"><h2>Timeline</h2>\n";
  page += "<form id=\"filters\" hidden><label>Actor <select id=\"actor-filter\"><option value=\"\">everyone</option>";
  for (const json& actor : get(report, "actors")) page += "<option value=\"" + html(actor) + "\">" + html(actor) + "</option>";
  page += "</select></label><fieldset id=\"kind-filter\"><legend class=\"muted\">Kinds</legend>";
  for (const json& kind : get(report, "kinds")) {
    page += "<label><input type=\"checkbox\" value=\"" + html(kind) + "\" checked> " + html(kind) + "</label>";
  }
  page += "</fieldset><output id=\"shown\"></output></form>\n";
  page += "<table id=\"entries\"><thead><tr><th>Time (UTC)</th><th>Kind</th><th>Actor</th><th>What</th>"
          "<th>Details</th><th>Source</th></tr></thead><tbody>\n";
  for (const json& entry : get(report, "entries")) {
    std::string kind = text(get(entry, "kind"));
    std::string source = text(get(entry, "artifact"));
    std::string where = source + (entry.contains("line") ? ":" + text(get(entry, "line")) : "");
    page += "<tr class=\"entry entry-" + escape(kind) + "\" data-kind=\"" + escape(kind) + "\" data-actor=\"" +
            html(get(entry, "actor")) + "\"><td><time datetime=\"" + html(get(entry, "time")) + "\">" +
            escape(shownTime(text(get(entry, "time")))) + "</time></td><td><span class=\"kind kind-" + escape(kind) + "\">" +
            escape(kind) + "</span></td><td>" + html(get(entry, "actor")) + "</td><td>" + html(get(entry, "summary")) +
            "</td><td>" + details(entry) + "</td><td><a href=\"" + href(base, source) + "\">" + escape(where) +
            "</a></td></tr>\n";
  }
  page += "</tbody></table>\n";
  if (get(report, "notes").is_array() && !get(report, "notes").empty()) {
    page += "<ul>";
    for (const json& note : get(report, "notes")) page += "<li class=\"muted\">" + html(note) + "</li>";
    page += "</ul>\n";
  }
  page += "</section>\n";
}

void artifactsSection(const json& report, std::string& page) {
  const std::string base = text(get(report, "linkBase"));
  page += "<section id=\"artifacts\"><h2>Artifacts</h2><table><thead><tr><th>File</th><th>Collector</th>"
          "<th>Bytes</th><th>SHA-256</th><th>State</th></tr></thead><tbody>\n";
  for (const json& artifact : get(report, "artifacts")) {
    std::string path = text(get(artifact, "path"));
    std::string state = text(get(artifact, "state"));
    bool stored = !text(get(artifact, "sha256")).empty();
    page += "<tr><td>" + (stored ? "<a href=\"" + href(base, path) + "\">" + escape(path) + "</a>" : escape(path)) +
            "</td><td>" + html(get(artifact, "collector")) + "</td><td>" + html(get(artifact, "size")) +
            "</td><td class=\"hash\">" + html(get(artifact, "sha256")) + "</td><td" +
            (state.rfind("problem", 0) == 0 ? " class=\"problem\"" : "") + ">" + escape(state) +
            (text(get(artifact, "error")).empty() ? "" : " <span class=\"muted\">(" + html(get(artifact, "error")) + ")</span>") +
            "</td></tr>\n";
  }
  page += "</tbody></table></section>\n";
}

}  // namespace

std::string renderHtml(const json& report) {
  const json& snapshot = get(report, "snapshot");
  const json& pod = get(snapshot, "pod");
  const std::string podName = text(get(pod, "namespace")) + "/" + text(get(pod, "name"));
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src " +
          cspHash(internal::kPageStyle) + "; script-src " + cspHash(internal::kPageScript) +
          "; base-uri 'none'; form-action 'none'\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<title>podmortem: " + escape(podName) + " (" + html(get(snapshot, "id")) + ")</title>\n";
  page += "<style>" + std::string(internal::kPageStyle) + "</style>\n</head>\n<body>\n";
  page += "<header><h1>" + escape(podName) + "</h1><p class=\"sub\">Evidence snapshot <code>" + html(get(snapshot, "id")) +
          "</code> of policy " + html(get(snapshot, "policy")) + "</p></header>\n";
  verificationSection(report, page);
  summarySection(report, page);
  timelineSection(report, page);
  artifactsSection(report, page);
  page += "<footer><p>Written by podmortem " + html(get(report, "podmortemVersion")) + " at <time>" +
          html(get(report, "generatedAt")) + "</time> from <code>" + html(get(report, "bundle")) +
          "</code>. The verification above is of the bundle at that time: <code>podmortem verify</code> checks it "
          "again.</p></footer>\n";
  page += "<script>" + std::string(internal::kPageScript) + "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace podmortem::report
