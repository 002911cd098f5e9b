#include "cluster_anchors.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "podmortem/kube/connection.h"
#include "podmortem/kube/rest_client.h"
#include "podmortem/kube/settings.h"

namespace podmortem::cli {

using nlohmann::json;

namespace {

// A copy: operator[] of a const json asserts on a missing key.
std::optional<evidence::LedgerAnchor> anchorOf(json custody) {
  if (!custody.is_object() || !custody["ledger"].is_string() || !custody["seq"].is_number_unsigned() ||
      !custody["entrySHA256"].is_string()) {
    return std::nullopt;
  }
  return evidence::LedgerAnchor{custody["ledger"].get<std::string>(), custody["seq"].get<uint64_t>(),
                                custody["entrySHA256"].get<std::string>(),
                                custody.value("previousSHA256", "")};
}

}  // namespace

ClusterAnchors fetchClusterAnchors(const ClusterSource& source, const std::string& ledgerId) {
  kube::ClientSettings settings;
  settings.mode = kube::Mode::kKubeconfig;
  settings.kubeconfig = source.kubeconfig;
  settings.context = source.context;
  auto connection = kube::resolveConnection(settings);
  if (!connection) throw std::runtime_error("no kubeconfig: set --kubeconfig or $KUBECONFIG");
  ClusterAnchors result;
  result.namespaceName = !source.namespaceName.empty() ? source.namespaceName
                         : !connection->namespaceName.empty() ? connection->namespaceName
                                                              : "podmortem-system";
  kube::initializeThreadPool(2);
  auto client = kube::makeRestClient(*connection, {}, nullptr);

  // Every EvidenceSnapshot, page by page: (replica, anchors).
  std::map<std::string, std::vector<evidence::LedgerAnchorRecord>> byReplica;
  std::string next;
  do {
    kube::Request request;
    request.verb = "list";
    request.resource = "evidencesnapshots";
    request.path = "/apis/podmortem.io/v1alpha1/namespaces/" + result.namespaceName +
                   "/evidencesnapshots?limit=500" + (next.empty() ? "" : "&continue=" + kube::encodeQueryValue(next));
    auto response = client->send(request);
    if (!response.ok()) throw std::runtime_error(response.asError("list EvidenceSnapshots").message);
    json list = json::parse(response.body, nullptr, false);
    if (!list.is_object() || !list["items"].is_array()) {
      throw std::runtime_error("list EvidenceSnapshots: the answer is not a list");
    }
    for (auto item : list["items"]) {  // copies, as above
      std::string name = item["metadata"].value("name", "");
      std::string replica = item.contains("spec") ? item["spec"].value("replica", "") : "";
      json status = item.contains("status") ? item["status"] : json();
      if (!status.is_object() || !status.contains("custody")) continue;
      json custody = status["custody"];
      std::string where = "EvidenceSnapshot " + result.namespaceName + "/" + name;
      if (auto anchor = anchorOf(custody)) byReplica[replica].push_back({where, *anchor});
      if (custody.contains("addenda") && custody["addenda"].is_object()) {
        for (const auto& [number, addendum] : custody["addenda"].items()) {
          if (auto anchor = anchorOf(addendum)) byReplica[replica].push_back({where + " addendum " + number, *anchor});
        }
      }
    }
    next = list["metadata"].value("continue", "");
  } while (!next.empty());

  result.replica = source.replica;
  if (result.replica.empty()) {
    std::set<std::string> naming;
    for (const auto& [replica, anchors] : byReplica) {
      for (const auto& record : anchors) {
        if (record.anchor.ledgerId == ledgerId) naming.insert(replica);
      }
    }
    if (naming.size() == 1) {
      result.replica = *naming.begin();
    } else if (naming.empty() && byReplica.size() == 1) {
      result.replica = byReplica.begin()->first;  // one replica, and this ledger is not its
    } else if (!byReplica.empty()) {
      std::string names;
      for (const auto& [replica, anchors] : byReplica) names += (names.empty() ? "" : ", ") + replica;
      throw std::runtime_error("the EvidenceSnapshots anchor the ledgers of several replicas (" + names +
                               "): say whose this evidence is with --replica");
    }
  }
  result.anchors = byReplica[result.replica];
  return result;
}

}  // namespace podmortem::cli
