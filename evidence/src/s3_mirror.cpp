#include "podmortem/evidence/s3_mirror.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>

#include "podmortem/core/file_io.h"
#include "podmortem/core/sha256.h"
#include "podmortem/evidence/artifact_path.h"
#include "podmortem/evidence/custody_ledger.h"
#include "s3_client.h"

namespace podmortem::evidence {

namespace fs = std::filesystem;

namespace {

core::Error failed(const std::string& why) {
  return core::makeError(core::ErrorCode::kUnavailable, why);
}

// Every key under `prefix`, all pages.
core::Result<std::vector<std::string>> listAll(S3Client& client, const std::string& prefix) {
  std::vector<std::string> all;
  std::string continuation;
  do {
    std::vector<std::string> keys;
    std::string next;
    auto answer = client.list(prefix, continuation, keys, next);
    if (!answer.ok()) return failed("list s3://" + client.endpoint().bucket + "/" + prefix + ": " + answer.describe());
    all.insert(all.end(), keys.begin(), keys.end());
    continuation = next;
  } while (!continuation.empty());
  return all;
}

}  // namespace


core::Result<std::vector<LedgerAnchorRecord>> anchorsFromS3(const S3Settings& settings,
                                                            const std::string& ledgerId) {
  std::unique_ptr<S3Client> client;
  try {
    client = std::make_unique<S3Client>(endpointFor(settings, settings.bucket));
  } catch (const std::exception& error) {
    return failed(error.what());
  }
  const std::string prefix = settings.prefix.empty() ? "ledger/" : settings.prefix + "/ledger/";
  auto keys = listAll(*client, prefix);
  if (!keys.ok()) return keys.error();
  std::vector<LedgerAnchorRecord> ours;
  std::vector<LedgerAnchorRecord> all;
  for (const auto& key : *keys) {
    std::string below = key.substr(prefix.size());  // <ledger id>/<seq>
    auto slash = below.find('/');
    if (slash == std::string::npos) continue;
    auto object = client->get(key);
    if (!object.ok()) return failed("GET " + key + ": " + object.describe());
    std::string line = object.body.substr(0, object.body.find('\n'));
    LedgerAnchor anchor{below.substr(0, slash), std::strtoull(below.c_str() + slash + 1, nullptr, 10),
                        core::sha256Hex(line), ""};
    LedgerAnchorRecord record{"s3://" + settings.bucket + "/" + key, anchor};
    if (anchor.ledgerId == ledgerId) ours.push_back(record);
    all.push_back(std::move(record));
  }
  return ours.empty() ? all : ours;
}

core::Result<std::string> mirrorFromS3(const std::string& url, const S3Settings& settings, const std::string& into) {
  if (url.rfind("s3://", 0) != 0) return failed(url + " is not an s3:// URL");
  std::string rest = url.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  const std::string prefix = settings.prefix;
  if (!prefix.empty() && path != prefix && path.rfind(prefix + "/", 0) != 0) {
    return failed(url + " is not under evidence.s3.prefix " + prefix);
  }
  std::string relative = path.size() > prefix.size() ? path.substr(prefix.empty() ? 0 : prefix.size() + 1) : "";

  S3Endpoint endpoint;
  try {
    endpoint = endpointFor(settings, bucket);
  } catch (const std::exception& error) {
    return failed(error.what());
  }
  S3Client client(endpoint);
  auto keyOf = [&](const std::string& below) { return prefix.empty() ? below : prefix + "/" + below; };

  // The evidence: one bundle (and its addenda), or everything but the ledger objects.
  auto keys = listAll(client, keyOf(relative.empty() ? "" : relative + "/"));
  if (!keys.ok()) return keys.error();
  size_t copied = 0;
  for (const auto& key : *keys) {
    std::string below = prefix.empty() ? key : key.substr(prefix.size() + 1);
    if (below.rfind("ledger/", 0) == 0) continue;
    if (!isSafeArtifactPath(below)) return failed("the store holds a key that is not a safe path: " + key);
    auto object = client.get(key);
    if (!object.ok()) return failed("GET " + key + ": " + object.describe());
    fs::path target = fs::path(into) / below;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (auto written = core::fileio::replaceFile(target.string(), object.body); !written.ok()) return written.error();
    ++copied;
  }
  if (copied == 0) return failed("nothing is stored under " + url);

  // The ledgers, line by line: the one that records the bundle (or, for the whole store, the one).
  auto ledgerKeys = listAll(client, keyOf("ledger/"));
  if (!ledgerKeys.ok()) return ledgerKeys.error();
  std::map<std::string, std::map<std::string, std::string>> ledgers;  // id -> seq -> line
  for (const auto& key : *ledgerKeys) {
    std::string below = prefix.empty() ? key : key.substr(prefix.size() + 1);
    auto idEnd = below.find('/', 7);
    if (idEnd == std::string::npos) continue;
    auto object = client.get(key);
    if (!object.ok()) return failed("GET " + key + ": " + object.describe());
    ledgers[below.substr(7, idEnd - 7)][below.substr(idEnd + 1)] = object.body;
  }
  std::string chosen;
  for (const auto& [id, lines] : ledgers) {
    for (const auto& [seq, line] : lines) {
      LedgerEntry entry;
      if (parseLedgerLine(std::string_view(line).substr(0, line.find('\n')), entry) &&
          (relative.empty() || entry.bundle == relative || entry.bundle.rfind(relative + "/", 0) == 0)) {
        chosen = id;
      }
    }
  }
  if (!chosen.empty() && (!relative.empty() || ledgers.size() == 1)) {
    std::string text;
    for (const auto& [seq, line] : ledgers[chosen]) text += line;  // seq is zero-padded: in order
    if (auto written = core::fileio::replaceFile((fs::path(into) / "custody.jsonl").string(), text); !written.ok()) {
      return written.error();
    }
  }
  return (fs::path(into) / relative).string();
}

}  // namespace podmortem::evidence

namespace podmortem::evidence {

core::Result<std::vector<std::pair<std::string, std::string>>> presignBundle(const S3Settings& settings,
                                                                            const std::string& url,
                                                                            const std::vector<std::string>& paths,
                                                                            std::chrono::seconds ttl) {
  if (url.rfind("s3://", 0) != 0) {
    return core::makeError(core::ErrorCode::kInvalidArgument, url + " is not an s3:// URL");
  }
  std::string rest = url.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto slash = rest.find('/');
  if (slash == std::string::npos) return core::makeError(core::ErrorCode::kInvalidArgument, url + " names no bundle");
  S3Endpoint endpoint;
  try {
    endpoint = endpointFor(settings, rest.substr(0, slash));
  } catch (const std::exception& error) {
    return core::makeError(core::ErrorCode::kUnavailable, error.what());
  }
  S3Client client(endpoint);
  std::vector<std::pair<std::string, std::string>> urls;
  for (const auto& path : paths) urls.emplace_back(path, client.presignGet(rest.substr(slash + 1) + "/" + path, ttl.count()));
  return urls;
}

}  // namespace podmortem::evidence
