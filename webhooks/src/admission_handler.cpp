#include "podmortem/webhooks/admission_handler.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "admission_review.h"
#include "podmortem/controller/pod_cache.h"
#include "podmortem/core/duration.h"
#include "podmortem/core/log.h"
#include "podmortem/webhooks/http_metrics.h"

namespace podmortem::webhooks {

namespace net = boost::asio;
namespace log = core::log;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

bool isConnectSubresource(std::string_view sub) {
  return sub == "exec" || sub == "attach" || sub == "portforward";
}

std::string shortId(const std::string& id) { return id.substr(0, 12); }

// One policy's part of a held answer.
struct HeldCapture {
  std::shared_ptr<const policy::Policy> policy;
  std::string triggerName;
  std::string snapshotId;
  milliseconds hold{0};
  std::optional<controller::CaptureOutcome> outcome;
};

// A held answer: released once, by the last capture to finish or by the deadline timer.
struct HeldAnswer {
  std::mutex mutex;
  bool answered = false;
  size_t remaining = 0;
  std::vector<HeldCapture> captures;
  AdmissionReviewRequest request;
  Respond respond;
  Clock::time_point started;
  milliseconds holdLimit{0};
  std::unique_ptr<net::steady_timer> timer;
};

}  // namespace

class AdmissionHandler::Impl {
 public:
  Impl(policy::PolicyStore& policies, controller::SnapshotManager& snapshots,
       controller::PodCache& podCache, AdmissionMetrics& metrics, Options options)
      : policies_(policies),
        snapshots_(snapshots),
        metrics_(metrics),
        options_(std::move(options)),
        podCache_(podCache),
        guard_(net::make_work_guard(timers_)),
        timerThread_([this] { timers_.run(); }) {}

  ~Impl() {
    guard_.reset();
    timers_.stop();
    timerThread_.join();
  }

  void handle(HttpRequest& http, Respond respond) {
    auto started = Clock::now();
    AdmissionReviewRequest request;
    std::string error = decodeAdmissionReview(http.body, request);
    if (!error.empty()) return reject(std::move(respond), request, error);

    bool isPod = request.group.empty() && request.resource == "pods";
    if (!isPod) return allowNow(std::move(respond), request, started, {});

    PodSummary pod;
    std::string podJson;
    std::string podSource;
    bool podKnown = false;
    if (request.subResource.empty()) {
      if (request.operation == "DELETE") {
        if (request.oldObjectJson.empty()) {
          return reject(std::move(respond), request, "request.oldObject is missing for a pod DELETE");
        }
        error = decodePod(request.oldObjectJson, pod);
        if (!error.empty()) return reject(std::move(respond), request, "request.oldObject " + error);
        podJson = std::string(request.oldObjectJson);
        podSource = "admission";
        podKnown = true;
      } else if ((request.operation == "CREATE" || request.operation == "UPDATE") &&
                 !request.objectJson.empty()) {
        error = decodePod(request.objectJson, pod);
        if (!error.empty()) return reject(std::move(respond), request, "request.object " + error);
        if (pod.namespaceName.empty()) pod.namespaceName = request.namespaceName;
        if (pod.name.empty()) pod.name = request.name;
        podJson = std::string(request.objectJson);
        podSource = "admission";
        podKnown = true;
        if (!pod.name.empty()) {
          podCache_.remember({{pod.namespaceName, pod.name, pod.uid, pod.node}, pod.labels, podJson});
        }
      }
    } else if (auto cached = podCache_.find(request.namespaceName, request.name)) {
      pod.namespaceName = cached->identity.namespaceName;
      pod.name = cached->identity.name;
      pod.uid = cached->identity.uid;
      pod.node = cached->identity.node;
      pod.labels = cached->labels;
      podJson = cached->json;
      podSource = "earlier admission request";
      podKnown = true;
    }
    if (pod.namespaceName.empty()) pod.namespaceName = request.namespaceName;
    if (pod.name.empty()) pod.name = request.name;

    auto set = policies_.current();
    std::optional<policy::Labels> namespaceLabels;
    if (options_.namespaceLabels) namespaceLabels = options_.namespaceLabels(pod.namespaceName);
    policy::AdmissionAttributes attributes;
    attributes.operation = request.operation;
    attributes.resource = request.resource;
    attributes.subResource = request.subResource;
    attributes.namespaceName = pod.namespaceName;
    attributes.userName = request.userName;
    attributes.groups = &request.groups;
    attributes.podLabels = podKnown ? &pod.labels : nullptr;
    attributes.namespaceLabels = namespaceLabels ? &*namespaceLabels : nullptr;
    auto matches = set->matchAdmission(attributes);

    bool captures = request.operation == "DELETE" ||
                    (request.operation == "CREATE" && request.subResource == "eviction") ||
                    (request.operation == "CONNECT" && isConnectSubresource(request.subResource));
    std::vector<HeldCapture> held;
    std::vector<HeldCapture> actOnly;
    for (const auto& match : matches) {
      const auto& policy = *match.policy;
      if (policy.correlation && !policy.correlation->requireAudit.empty() &&
          !(options_.correlation && options_.correlation(policy, pod.namespaceName, pod.name))) {
        continue;
      }
      metrics_.policyMatches
          .Add({{"policy", policy.name}, {"trigger", std::string(match.triggerName)}})
          .Increment();
      bool snapshot = captures && policy.actions.snapshot && !request.dryRun;
      if (options_.onMatch) options_.onMatch(policy.name, snapshot);
      if (!captures) continue;
      if (!policy.actions.snapshot) {
        // Labels, annotations or quarantine alone: done on the side, the answer does not wait.
        if (!request.dryRun && controller::hasPodActions(policy.actions)) {
          actOnly.push_back({match.policy, std::string(match.triggerName), "", milliseconds(0),
                             std::nullopt});
        }
        continue;
      }
      held.push_back({match.policy, std::string(match.triggerName), "",
                      policy.actions.snapshot->holdDeletion, std::nullopt});
    }
    for (auto& capture : actOnly) {
      auto captureRequest = captureRequestFor(request, pod, podJson, podSource, capture);
      snapshots_.capture(captureKey(pod, capture), std::move(captureRequest),
                         Clock::now() + policy::kDefaultHoldDeletion,
                         [](const controller::CaptureOutcome&) {});
    }
    if (held.empty()) return allowNow(std::move(respond), request, started, {});

    if (request.dryRun) {
      std::vector<std::string> warnings;
      for (const auto& capture : held) {
        warnings.push_back("podmortem: dry run, no evidence captured (policy " +
                           capture.policy->name + ")");
      }
      return allowNow(std::move(respond), request, started, warnings, true);
    }
    hold(std::move(respond), std::move(request), std::move(pod), std::move(podJson),
         std::move(podSource), std::move(held), http.queryParameter("timeout"), started);
  }

 private:
  void count(const AdmissionReviewRequest& request, std::string_view decision, bool matched,
             Clock::time_point started) {
    std::string resource = request.resource.empty() ? "unknown" : request.resource;
    if (!request.subResource.empty()) resource += "/" + request.subResource;
    metrics_.requests
        .Add({{"operation", request.operation.empty() ? "unknown" : request.operation},
              {"resource", resource},
              {"decision", std::string(decision)}})
        .Increment();
    metrics_.duration.Add({{"matched", matched ? "true" : "false"}}, latencyBuckets())
        .Observe(std::chrono::duration<double>(Clock::now() - started).count());
  }

  void reject(Respond respond, const AdmissionReviewRequest& request, const std::string& error) {
    count(request, "invalid", false, Clock::now());
    respond(jsonError(400, "invalid AdmissionReview: " + error));
  }

  static HttpResponse review(const AdmissionReviewRequest& request, bool allowed,
                             const std::vector<std::string>& warnings,
                             const std::string& denyMessage,
                             const nlohmann::json& auditAnnotations) {
    nlohmann::json response = {{"uid", request.uid}, {"allowed", allowed}};
    if (!warnings.empty()) response["warnings"] = warnings;
    if (!allowed) {
      response["status"] = {{"code", 403}, {"reason", "Forbidden"}, {"message", denyMessage}};
    }
    if (!auditAnnotations.empty()) response["auditAnnotations"] = auditAnnotations;
    nlohmann::json body = {{"apiVersion", "admission.k8s.io/v1"},
                           {"kind", "AdmissionReview"},
                           {"response", std::move(response)}};
    HttpResponse http;
    http.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return http;
  }

  void allowNow(Respond respond, const AdmissionReviewRequest& request, Clock::time_point started,
                const std::vector<std::string>& warnings, bool matched = false) {
    count(request, "allowed", matched, started);
    respond(review(request, true, warnings, "", nlohmann::json::object()));
  }

  // How long the answer may be held: the policy's hold, but always inside the API server's own
  // deadline for this call (?timeout=), minus a margin for the answer to travel back.
  milliseconds holdLimit(std::string_view timeoutParameter) const {
    milliseconds limit = policy::kMaxHoldDeletion;
    if (auto timeout = core::parseDuration(timeoutParameter)) limit = std::min(limit, *timeout);
    milliseconds margin = std::max(options_.minimumMargin, limit / 10);
    return std::max(milliseconds(0), limit - margin);
  }

  void hold(Respond respond, AdmissionReviewRequest request, PodSummary pod, std::string podJson,
            std::string podSource, std::vector<HeldCapture> captures,
            std::string_view timeoutParameter, Clock::time_point started) {
    auto answer = std::make_shared<HeldAnswer>();
    answer->respond = std::move(respond);
    answer->started = started;
    answer->holdLimit = holdLimit(timeoutParameter);
    answer->remaining = captures.size();
    answer->captures = std::move(captures);
    milliseconds longest{0};
    for (auto& capture : answer->captures) {
      capture.hold = std::min(capture.hold, answer->holdLimit);
      longest = std::max(longest, capture.hold);
    }
    answer->request = std::move(request);
    const auto& req = answer->request;

    // Lock while starting, so that a capture finishing at once cannot answer before every
    // snapshot id is known.
    std::lock_guard lock(answer->mutex);
    answer->timer = std::make_unique<net::steady_timer>(timers_, started + longest);
    answer->timer->async_wait([this, answer](const boost::system::error_code& ec) {
      if (!ec) release(answer);
    });
    for (size_t i = 0; i < answer->captures.size(); ++i) {
      auto& capture = answer->captures[i];
      auto ticket = snapshots_.capture(
          captureKey(pod, capture), captureRequestFor(req, pod, podJson, podSource, capture),
          started + capture.hold,
          [this, answer, i](const controller::CaptureOutcome& outcome) {
            bool last = false;
            {
              std::lock_guard inner(answer->mutex);
              answer->captures[i].outcome = outcome;
              last = --answer->remaining == 0;
            }
            if (last) release(answer);
          });
      capture.snapshotId = ticket.snapshotId;
    }
  }

  // One snapshot per pod, policy and trigger, however often the API server calls.
  static std::string captureKey(const PodSummary& pod, const HeldCapture& capture) {
    std::string podKey = pod.uid.empty() ? pod.namespaceName + "/" + pod.name : pod.uid;
    return podKey + "|" + capture.policy->name + "|" + capture.triggerName;
  }

  static controller::CaptureRequest captureRequestFor(const AdmissionReviewRequest& req,
                                                      const PodSummary& pod,
                                                      const std::string& podJson,
                                                      const std::string& podSource,
                                                      const HeldCapture& capture) {
    const auto& policy = *capture.policy;
    controller::CaptureRequest request;
    request.pod = {pod.namespaceName, pod.name, pod.uid, pod.node};
    request.podJson = podJson;
    request.podSource = podSource;
    if (!req.subResource.empty()) request.triggerObjectJson = std::string(req.objectJson);
    request.trigger = {"admission",
                       capture.triggerName,
                       req.operation,
                       policy::resourceString(req.resource, req.subResource),
                       req.userName,
                       req.groups,
                       req.uid,
                       std::chrono::system_clock::now()};
    request.policyName = policy.name;
    request.actions = policy.actions;
    if (policy.actions.snapshot) {
      request.collectors = policy.actions.snapshot->collectors;
      request.logLimitBytes = policy.actions.snapshot->logLimitBytes;
      request.logTailLines = policy.actions.snapshot->logTailLines;
    }
    if (policy.correlation) request.correlationWindow = policy.correlation->window;
    return request;
  }

  void release(const std::shared_ptr<HeldAnswer>& answer) {
    std::vector<std::string> warnings;
    std::string denial;
    nlohmann::json annotations = nlohmann::json::object();
    std::string snapshots;
    {
      std::lock_guard lock(answer->mutex);
      if (answer->answered) return;
      answer->answered = true;
      for (const auto& capture : answer->captures) {
        const auto& policyName = capture.policy->name;
        snapshots += (snapshots.empty() ? "" : ",") + policyName + "=" + capture.snapshotId;
        if (!capture.outcome) {
          auto onTimeout = capture.policy->actions.snapshot->onTimeout;
          metrics_.holdTimeouts.Add({{"on_timeout", std::string(policy::toString(onTimeout))}})
              .Increment();
          if (onTimeout == policy::OnTimeout::kDeny) {
            denial = "podmortem: evidence capture " + shortId(capture.snapshotId) +
                     " for this pod did not finish within " +
                     std::to_string(capture.hold.count()) + " ms (policy " + policyName +
                     ", onTimeout: deny); retry once it has finished";
          } else {
            warnings.push_back("podmortem: evidence snapshot " + shortId(capture.snapshotId) +
                               "… still being captured when the hold time ran out (policy " +
                               policyName + ")");
          }
          continue;
        }
        const auto& result = capture.outcome->result;
        size_t total = result.artifacts.size();
        switch (result.phase) {
          case evidence::SnapshotPhase::kComplete:
            warnings.push_back("podmortem: evidence snapshot " + shortId(capture.snapshotId) +
                               "… captured (policy " + policyName + ", " +
                               std::to_string(capture.outcome->artifactsStored) + " artifacts)");
            break;
          case evidence::SnapshotPhase::kPartial:
            warnings.push_back("podmortem: evidence snapshot " + shortId(capture.snapshotId) +
                               "… partially captured (policy " + policyName + ", " +
                               std::to_string(capture.outcome->artifactsStored) + " of " +
                               std::to_string(total) + " artifacts; " + result.reason + ")");
            break;
          case evidence::SnapshotPhase::kFailed:
            warnings.push_back("podmortem: evidence capture " + shortId(capture.snapshotId) +
                               "… failed (policy " + policyName + "): " + result.reason);
            break;
        }
      }
    }
    if (answer->timer) {
      net::post(timers_, [answer] { answer->timer->cancel(); });
    }
    annotations["evidence-snapshots"] = snapshots;
    bool allowed = denial.empty();
    count(answer->request, allowed ? "allowed" : "denied", true, answer->started);
    answer->respond(review(answer->request, allowed, warnings, denial, annotations));
  }

  policy::PolicyStore& policies_;
  controller::SnapshotManager& snapshots_;
  AdmissionMetrics& metrics_;
  Options options_;
  controller::PodCache& podCache_;
  net::io_context timers_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread timerThread_;
};

AdmissionHandler::AdmissionHandler(policy::PolicyStore& policies,
                                   controller::SnapshotManager& snapshots,
                                   controller::PodCache& podCache, AdmissionMetrics& metrics,
                                   Options options)
    : impl_(std::make_unique<Impl>(policies, snapshots, podCache, metrics, std::move(options))) {}

AdmissionHandler::~AdmissionHandler() = default;

void AdmissionHandler::handle(HttpRequest& request, Respond respond) {
  impl_->handle(request, std::move(respond));
}

}  // namespace podmortem::webhooks
