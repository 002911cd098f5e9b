#include "podmortem/kube/leader_elector.h"

#include <nlohmann/json.hpp>

#include "podmortem/core/log.h"
#include "podmortem/core/timestamp.h"

namespace podmortem::kube {

namespace log = core::log;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

LeaderElector::LeaderElector(Client& client, Options options, Metrics* metrics)
    : client_(client),
      options_(std::move(options)),
      metrics_(metrics),
      worker_("leader election", options_.retryPeriod,
              [this](std::stop_token) { tryAcquireOrRenew(); }) {}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() { worker_.start(); }

void LeaderElector::stop() {
  if (!worker_.running()) return;
  worker_.stop();
  release();
}

void LeaderElector::setLeader(bool leader) {
  if (leader_.exchange(leader) != leader) {
    log::info(leader ? "became the leader" : "lost the leadership",
              {{"lease", options_.leaseName}, {"identity", options_.identity}});
  }
  if (metrics_ != nullptr) metrics_->leader.Set(leader ? 1 : 0);
}

bool LeaderElector::tryAcquireOrRenew() {
  std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + options_.namespaceName + "/leases";
  auto now = std::chrono::system_clock::now();
  int durationSeconds = static_cast<int>(
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(options_.leaseDuration).count()));

  Request get;
  get.path = path + "/" + options_.leaseName;
  get.resource = "leases";
  auto current = client_.send(get);
  if (current.status == 404) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.leaseName}, {"namespace", options_.namespaceName}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", durationSeconds},
                    {"acquireTime", core::formatMicroTime(now)},
                    {"renewTime", core::formatMicroTime(now)},
                    {"leaseTransitions", 0}}}};
    Request create;
    create.verb = "create";
    create.method = "POST";
    create.path = path;
    create.resource = "leases";
    create.body = lease.dump();
    bool won = client_.send(create).ok();  // a 409 means another replica created it first
    if (won) lastRenewed_ = Clock::now();
    setLeader(won);
    return won;
  }
  auto lease = current.ok() ? json::parse(current.body, nullptr, false) : json();
  if (!lease.is_object()) {
    // Cannot tell: keep leading only while our last renewal is still valid.
    if (leader_ && Clock::now() - lastRenewed_ > options_.leaseDuration) setLeader(false);
    return leader_;
  }
  json& spec = lease["spec"];
  std::string holder = spec.value("holderIdentity", "");
  std::string record = holder + "|" + spec.value("renewTime", "");
  if (record != observedRecord_) {
    observedRecord_ = record;
    observedAt_ = Clock::now();
  }
  auto theirDuration = std::chrono::seconds(spec.value("leaseDurationSeconds", durationSeconds));
  bool ours = holder == options_.identity;
  if (!ours && !holder.empty() && Clock::now() - observedAt_ < theirDuration) {
    setLeader(false);
    return false;
  }
  if (!ours) {
    spec["acquireTime"] = core::formatMicroTime(now);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = durationSeconds;
  spec["renewTime"] = core::formatMicroTime(now);
  Request update;
  update.verb = "update";
  update.method = "PUT";
  update.path = path + "/" + options_.leaseName;
  update.resource = "leases";
  update.body = lease.dump();  // carries metadata.resourceVersion: a lost race is a 409
  bool won = client_.send(update).ok();
  if (won) lastRenewed_ = Clock::now();
  if (!won && leader_ && Clock::now() - lastRenewed_ <= options_.leaseDuration) return true;
  setLeader(won);
  return won;
}

void LeaderElector::release() {
  if (!leader_) return;
  Request get;
  get.path = "/apis/coordination.k8s.io/v1/namespaces/" + options_.namespaceName + "/leases/" +
             options_.leaseName;
  get.resource = "leases";
  auto current = client_.send(get);
  auto lease = current.ok() ? json::parse(current.body, nullptr, false) : json();
  if (lease.is_object() && lease["spec"].value("holderIdentity", "") == options_.identity) {
    // An empty holder with a 1 s duration lets the next replica take over at once.
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    Request update;
    update.verb = "update";
    update.method = "PUT";
    update.path = get.path;
    update.resource = "leases";
    update.body = lease.dump();
    client_.send(update);
  }
  setLeader(false);
}

}  // namespace podmortem::kube
