// `podmortem report`: the responder's page of one bundle, loaded in a real headless Chromium
// (tests/browser/report-check.mjs drives Debian's chromium over the DevTools protocol): it loads
// nothing from the network, logs no error, shows the recorded session's exec before the delete,
// and filtering by a user hides everyone else. The screenshots stay in <build>/test-output/.
#include <gtest/gtest.h>

#include <iostream>

#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCaptureOnDelete = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]
  correlation: {window: 100000h}
  actions: {snapshot: {collectors: [pod, auditTrail, references]}}
)";

fs::path outputDir() {
  fs::path dir = PODMORTEM_TEST_OUTPUT_DIR;
  fs::create_directories(dir);
  return dir;
}

CommandResult report(const std::string& arguments) {
  return runCommand(std::string(PODMORTEM_BINARY) + " report " + arguments + " 2>&1");
}

// What Chromium saw of the page (report-check.mjs's JSON), after filtering by `actor`.
json inChromium(const fs::path& page, const fs::path& screenshot, const std::string& actor) {
  auto run = runCommand("node " + sourcePath("tests/browser/report-check.mjs").string() + " " + page.string() + " " +
                        screenshot.string() + " " + actor + " 2>&1");
  EXPECT_EQ(run.exitCode, 0) << run.output;
  auto last = run.output.rfind("\n{");
  return parseJson(run.output.substr(last == std::string::npos ? 0 : last + 1));
}

size_t indexOf(const json& rows, const std::function<bool(const json&)>& wanted) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (wanted(rows[i])) return i;
  }
  return rows.size();
}

bool isPng(const fs::path& file) {
  std::string bytes = readFile(file);
  return bytes.size() > 10'000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

// The recorded 1.21 session: mallory execs into checkout (the audit batches), then deletes it.
TEST(ReportTest, TheRecordedSessionShowsTheExecBeforeTheDeleteAndFiltersByUserInChromium) {
  REQUIRE_SHARED_FIXTURES();
  RunningServer server(kCaptureOnDelete, {}, kNoAuth);
  auto http = server.client();
  for (const char* create : {"01-create-pod-checkout.json", "08-create-pod-payments.json"}) {
    ASSERT_EQ(http.post("/validate", readFile(sharedFixture(std::string("kube-apiserver-1.21/admission/") + create))).status, 200u);
  }
  for (int batch = 1; batch <= 38; ++batch) {
    char name[64];
    std::snprintf(name, sizeof name, "kube-apiserver-1.21/audit-webhook/batch-%02d.json", batch);
    if (!fs::exists(sharedFixture(name))) break;
    ASSERT_EQ(http.post("/audit", readFile(sharedFixture(name))).status, 200u) << name;
  }
  waitForIndexing(server);
  auto deletion = readFile(sharedFixture("kube-apiserver-1.21/admission/05-delete-pod-checkout-graceful-by-mallory.json"));
  ASSERT_EQ(http.post("/validate", deletion).status, 200u);
  ASSERT_TRUE(eventually([&] { return server.snapshots().size() == 1; }));
  const fs::path bundle = server.snapshots()[0];

  // The timeline as data.
  const fs::path out = outputDir();
  auto asJson = report(bundle.string() + " --format json --out " + (out / "report-recorded-session.json").string());
  ASSERT_EQ(asJson.exitCode, 0) << asJson.output;
  json timeline = parseJson(readFile(out / "report-recorded-session.json"));
  EXPECT_TRUE(timeline["verification"]["intact"].get<bool>());
  const json& entries = timeline["entries"];
  size_t exec = indexOf(entries, [](const json& e) {
    return e["actor"] == "mallory" && e["summary"].get<std::string>().rfind("exec into checkout", 0) == 0;
  });
  // Her dry run first (marked, from the request body a later stage carries), then the real one.
  auto isDelete = [](const json& e, bool dryRun) {
    std::string summary = e["summary"];
    return e["actor"] == "mallory" && summary.rfind("delete pods checkout", 0) == 0 &&
           (summary.find("(dry run)") != std::string::npos) == dryRun;
  };
  size_t dryRun = indexOf(entries, [&](const json& e) { return isDelete(e, true); });
  size_t deleted = indexOf(entries, [&](const json& e) { return isDelete(e, false); });
  EXPECT_LT(dryRun, deleted);
  ASSERT_LT(exec, entries.size()) << timeline.dump(1);
  ASSERT_LT(deleted, entries.size()) << timeline.dump(1);
  EXPECT_LT(exec, deleted) << "the exec comes before the delete";
  EXPECT_FALSE(entries[exec]["detail"]["command"].empty()) << entries[exec].dump();
  EXPECT_FALSE(entries[exec]["detail"]["sourceIPs"].empty()) << entries[exec].dump();
  EXPECT_EQ(entries[exec]["artifact"], "audit-trail.jsonl");
  for (size_t i = 1; i < entries.size(); ++i) {
    EXPECT_LE(entries[i - 1]["time"].get<std::string>(), entries[i]["time"].get<std::string>()) << "one time axis";
  }

  // The page, in Chromium.
  const fs::path page = out / "report-recorded-session.html";
  auto asHtml = report(bundle.string() + " --out " + page.string());
  ASSERT_EQ(asHtml.exitCode, 0) << asHtml.output;
  const fs::path screenshot = out / "report-recorded-session.png";
  json seen = inChromium(page, screenshot, "mallory");
  EXPECT_EQ(seen["consoleErrors"], json::array()) << "a console error (a script the CSP refused, a failure)";
  EXPECT_EQ(seen["pageErrors"], json::array());
  EXPECT_EQ(seen["requests"], json::array()) << "the page loads nothing";
  EXPECT_EQ(seen["verification"], "Intact");
  EXPECT_TRUE(seen["filtersShown"].get<bool>());
  const json& before = seen["before"];
  size_t shownExec = indexOf(before, [](const json& r) {
    return r["visible"] == true && r["actor"] == "mallory" && r["summary"].get<std::string>().rfind("exec into checkout", 0) == 0;
  });
  size_t shownDelete = indexOf(before, [&](const json& r) { return r["visible"] == true && isDelete(r, false); });
  ASSERT_LT(shownExec, before.size());
  ASSERT_LT(shownDelete, before.size());
  EXPECT_LT(shownExec, shownDelete) << "the exec row is above the delete row";
  size_t others = 0, othersShown = 0, mallory = 0;
  for (const json& row : seen["after"]) {
    if (row["actor"] == "mallory") {
      mallory += row["visible"] == true;
    } else {
      ++others;
      othersShown += row["visible"] == true;
    }
  }
  EXPECT_GT(others, 0u) << "the session has other actors";
  EXPECT_EQ(othersShown, 0u) << "filtering by mallory hides everyone else";
  EXPECT_GT(mallory, 1u);
  EXPECT_EQ(seen["hash"], "#actor=mallory") << "the filtered view is a link";
  EXPECT_TRUE(isPng(screenshot));
  std::cout << "Chromium: " << before.size() << " timeline rows, exec (row " << shownExec + 1 << ") before delete (row "
            << shownDelete + 1 << "); filtered by mallory: " << mallory << " shown, " << others << " of other actors hidden; "
            << seen["shown"].get<std::string>() << "; console errors 0, requests 0\n"
            << "screenshot: " << screenshot.string() << "\npage: " << page.string() << "\n";
}

// The project's own recorded DELETE (so this runs without the shared fixtures): an intact page,
// then the same bundle with one byte changed says what failed, at the top.
TEST(ReportTest, ATamperedBundleSaysWhatFailedAtTheTop) {
  RunningServer server(kCaptureOnDelete, {}, kNoAuth);
  ASSERT_EQ(server.client().post("/validate", deleteOfPod(0)).status, 200u);
  ASSERT_TRUE(eventually([&] { return server.snapshots().size() == 1; }));
  const fs::path bundle = server.snapshots()[0];
  TempDir dir;
  auto intact = report(bundle.string() + " --out " + (dir.path() / "intact.html").string());
  EXPECT_EQ(intact.exitCode, 0) << intact.output;
  std::string page = readFile(dir.path() / "intact.html");
  EXPECT_NE(page.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos) << "nothing is loaded";
  // Links resolve from where the page is: to the bundle's own files.
  auto link = page.find("href=\"");
  ASSERT_NE(link, std::string::npos);
  std::string target = page.substr(link + 6, page.find('"', link + 6) - link - 6);
  EXPECT_TRUE(fs::exists(dir.path() / target)) << target;

  std::string pod = readFile(bundle / "pod.json");
  pod[pod.size() / 2] ^= 1;
  writeFile(bundle / "pod.json", pod);
  auto tampered = report(bundle.string() + " --format json --out " + (dir.path() / "tampered.json").string());
  EXPECT_EQ(tampered.exitCode, 1) << tampered.output;
  EXPECT_NE(tampered.output.find("does not verify"), std::string::npos) << tampered.output;
  json problems = parseJson(readFile(dir.path() / "tampered.json"))["verification"]["problems"];
  ASSERT_EQ(problems.size(), 1u) << tampered.output;
  EXPECT_EQ(problems[0]["path"], "pod.json");
  EXPECT_NE(problems[0]["message"].get<std::string>().find("the artifact changed"), std::string::npos);
  auto html = report(bundle.string() + " --out " + (dir.path() / "tampered.html").string());
  EXPECT_EQ(html.exitCode, 1);
  const fs::path screenshot = outputDir() / "report-tampered.png";
  json seen = inChromium(dir.path() / "tampered.html", screenshot, "eve");
  EXPECT_EQ(seen["verification"], "Tampered: the bundle does not verify");
  EXPECT_EQ(seen["consoleErrors"], json::array());
  EXPECT_TRUE(isPng(screenshot));
  std::string tamperedPage = readFile(dir.path() / "tampered.html");
  EXPECT_NE(tamperedPage.find("<code>pod.json</code>: sha256"), std::string::npos) << "what failed, by file";

  EXPECT_EQ(report(dir.path().string()).exitCode, 2) << "not a snapshot folder";
  EXPECT_EQ(report(bundle.string() + " --format pdf").exitCode, 2);
}

}  // namespace
}  // namespace podmortem::testing
