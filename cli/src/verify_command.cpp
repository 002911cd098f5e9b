#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "cluster_anchors.h"
#include "podmortem/cli/config.h"
#include "podmortem/evidence/s3_mirror.h"
#include "commands.h"
#include "podmortem/evidence/signer.h"
#include "podmortem/evidence/verifier.h"

namespace podmortem::cli {

namespace {

constexpr const char* kVerifyUsage =
    "Usage: podmortem verify [--key FILE] [--against-cluster [--kubeconfig FILE] [--context NAME]\n"
    "                        [--namespace NS] [--replica NAME]] [--config FILE] [--output text|json]\n"
    "                        PATH | s3://BUCKET/PREFIX[/NAMESPACE/POD/ID]\n"
    "\n"
    "Checks evidence for tampering. PATH is one snapshot folder or a whole evidence folder.\n"
    "Recomputes every artifact's SHA-256, compares manifests with the custody ledger, walks the\n"
    "ledger's hash chain, checks each attestation.dsse.json (an in-toto Statement in a DSSE\n"
    "envelope) against its manifest and, with --key, requires its signature by that key.\n"
    "\n"
    "Flags:\n"
    "  --key FILE        Ed25519 or ECDSA P-256 public (or private) key PEM, or the HMAC secret\n"
    "  --against-cluster also check the ledger against the line hashes anchored in the\n"
    "                    EvidenceSnapshots (status.custody): finds a removed last line or a\n"
    "                    replaced volume. PATH is then an evidence folder (custody.jsonl)\n"
    "  --kubeconfig FILE, --context NAME   the cluster (default $KUBECONFIG, ~/.kube/config)\n"
    "  --namespace NS    podmortem's namespace (default: the context's, then podmortem-system)\n"
    "  --replica NAME    whose ledger PATH is (default: found from the anchors)\n"
    "  --against-s3      also check the ledger against its lines in the S3 store (evidence.s3.* of\n"
    "                    --config): finds a removed last line or a replaced volume\n"
    "  --config FILE     podmortem's configuration: evidence.s3.* for an s3:// URL (the store,\n"
    "                    its credentials); the evidence is downloaded and verified as on the volume\n"
    "  --output FORMAT   text (default) or json\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 all intact, 1 a problem was found, 2 usage error.\n";

}  // namespace

int verifyCommand(Arguments& args) {
  std::string keyFile;
  std::string output = "text";
  std::string path;
  bool againstCluster = false;
  ClusterSource cluster;
  std::string configFile;
  bool againstS3 = false;
  while (!args.done()) {
    if (auto flag = args.nextFlag()) {
      if (*flag == "--help" || *flag == "-h") {
        std::fputs(kVerifyUsage, stdout);
        return 0;
      }
      if (*flag == "--key") {
        keyFile = args.flagValue(*flag);
      } else if (*flag == "--against-s3") {
        againstS3 = true;
      } else if (*flag == "--config") {
        configFile = args.flagValue(*flag);
      } else if (*flag == "--against-cluster") {
        againstCluster = true;
      } else if (*flag == "--kubeconfig") {
        cluster.kubeconfig = args.flagValue(*flag);
      } else if (*flag == "--context") {
        cluster.context = args.flagValue(*flag);
      } else if (*flag == "--namespace") {
        cluster.namespaceName = args.flagValue(*flag);
      } else if (*flag == "--replica") {
        cluster.replica = args.flagValue(*flag);
      } else if (*flag == "--output") {
        output = args.flagValue(*flag);
        if (output != "text" && output != "json") {
          return usageError(kVerifyUsage, "--output must be text or json");
        }
      } else {
        return usageError(kVerifyUsage, "unknown flag " + *flag);
      }
    } else if (path.empty()) {
      path = args.nextPositional();
    } else {
      return usageError(kVerifyUsage, "only one PATH may be given");
    }
  }
  if (path.empty()) return usageError(kVerifyUsage, "no PATH given");
  // s3://...: downloaded into a temporary folder, laid out as on the volume, and verified there.
  std::unique_ptr<std::filesystem::path, void (*)(std::filesystem::path*)> downloaded(
      nullptr, [](std::filesystem::path* dir) {
        std::error_code ignored;
        std::filesystem::remove_all(*dir, ignored);
        delete dir;
      });
  std::string source = path;
  evidence::S3Settings s3;
  if (path.rfind("s3://", 0) == 0 || againstS3) {
    try {
      if (!configFile.empty()) s3 = loadConfig(configFile, {}).s3;
    } catch (const std::exception& error) {
      return usageError(kVerifyUsage, error.what());
    }
    if (s3.endpoint.empty()) {
      return usageError(kVerifyUsage, "an s3:// PATH and --against-s3 need --config with evidence.s3.endpoint");
    }
  }
  if (path.rfind("s3://", 0) == 0) {
    char folder[] = "/tmp/podmortem-verify-XXXXXX";
    if (::mkdtemp(folder) == nullptr) return usageError(kVerifyUsage, "cannot make a temporary folder");
    downloaded.reset(new std::filesystem::path(folder));
    auto mirrored = evidence::mirrorFromS3(path, s3, folder);
    if (!mirrored.ok()) {
      std::fprintf(stderr, "podmortem verify: %s\n", mirrored.error().message.c_str());
      return 2;
    }
    path = *mirrored;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return usageError(kVerifyUsage, path + " is not a folder");
  }
  std::unique_ptr<evidence::SignatureVerifier> verifier;
  if (!keyFile.empty()) {
    try {
      verifier = evidence::loadSignatureVerifier(keyFile);
    } catch (const std::exception& error) {
      return usageError(kVerifyUsage, error.what());
    }
  }

  auto report = evidence::verifyEvidence(path, verifier.get());
  if (againstS3) {
    std::string ledger = (std::filesystem::path(path) / "custody.jsonl").string();
    auto anchors = evidence::anchorsFromS3(s3, report.ledgerFirstLineSha256);
    if (!anchors.ok()) {
      std::fprintf(stderr, "podmortem verify: --against-s3: %s\n", anchors.error().message.c_str());
      return 2;
    }
    evidence::checkAnchors(*anchors, ledger, report);
    report.notes.push_back(std::to_string(anchors->size()) + " ledger line(s) checked against the store's ledger objects");
  }
  if (againstCluster) {
    std::string ledger = (std::filesystem::path(path) / "custody.jsonl").string();
    try {
      auto anchors = fetchClusterAnchors(cluster, report.ledgerFirstLineSha256);
      evidence::checkAnchors(anchors.anchors, ledger, report);
      report.notes.push_back(std::to_string(anchors.anchors.size()) + " ledger line(s) checked against the " +
                             "EvidenceSnapshots of replica \"" + anchors.replica + "\" in namespace " +
                             anchors.namespaceName);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "podmortem verify: --against-cluster: %s\n", error.what());
      return 2;
    }
  }
  if (output == "json") {
    auto list = [](const std::vector<evidence::VerifyProblem>& items) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : items) out.push_back({{"path", item.path}, {"message", item.message}});
      return out;
    };
    nlohmann::json body = {{"ok", report.ok()},
                           {"snapshots", report.snapshotsChecked},
                           {"addenda", report.addendaChecked},
                           {"artifacts", report.artifactsChecked},
                           {"artifactsInStore", report.artifactsInStore},
                           {"ledgerEntries", report.ledgerEntries},
                           {"signatures", report.signaturesChecked},
                           {"anchorsChecked", report.anchorsChecked},
                           {"ledgerHeadSha256", report.ledgerHeadSha256},
                           {"notes", report.notes},
                           {"notCaptured", list(report.notCaptured)},
                           {"problems", list(report.problems)}};
    std::printf("%s\n", body.dump(2).c_str());
  } else {
    for (const auto& problem : report.problems) {
      std::printf("PROBLEM  %s: %s\n", problem.path.c_str(), problem.message.c_str());
    }
    for (const auto& missing : report.notCaptured) {
      std::printf("missing  %s: %s\n", missing.path.c_str(), missing.message.c_str());
    }
    for (const auto& note : report.notes) std::printf("note     %s\n", note.c_str());
    std::string addenda;
    if (report.addendaChecked > 0) {
      addenda = std::to_string(report.addendaChecked) +
                (report.addendaChecked == 1 ? " addendum, " : " addenda, ");
    }
    std::string inStore;
    // Not checked here: uploaded.json says where they went, but only the store's copy proves it.
    if (report.artifactsInStore > 0) {
      inStore = " (" + std::to_string(report.artifactsInStore) + " only in the store, not checked here)";
    }
    std::printf("%s: %zu snapshots, %s%zu artifacts%s, %zu ledger entries, %zu signatures checked; "
                "%zu problems\n",
                report.ok() ? "INTACT" : "TAMPERED", report.snapshotsChecked, addenda.c_str(),
                report.artifactsChecked, inStore.c_str(), report.ledgerEntries, report.signaturesChecked,
                report.problems.size());
    if (downloaded) std::printf("verified a copy downloaded from %s\n", source.c_str());
    if (!report.ledgerHeadSha256.empty()) {
      std::printf("ledger head sha256: %s\n", report.ledgerHeadSha256.c_str());
    }
  }
  return report.ok() ? 0 : 1;
}

}  // namespace podmortem::cli
