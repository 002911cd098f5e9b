#include "podmortem/webhooks/admission_handler.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include "admission_answer.h"
#include "admission_event.h"
#include "admission_review.h"
#include "podmortem/core/duration.h"
#include "podmortem/core/log.h"
#include "podmortem/policy/firing.h"
#include "podmortem/webhooks/http_metrics.h"

namespace podmortem::webhooks {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using Effect = policy::Firing::Effect;
using std::chrono::milliseconds;

namespace {

// One policy's part of a held answer.
struct HeldCapture {
  std::shared_ptr<const policy::Policy> policy;
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
  policy::AdmissionRequest request;
  Respond respond;
  Clock::time_point started;
  std::unique_ptr<net::steady_timer> timer;
};

bool rememberable(const policy::AdmissionRequest& request) {
  return request.subResource.empty() && !request.objectJson.empty() &&
         (request.operation == "CREATE" || request.operation == "UPDATE");
}

}  // namespace

class AdmissionHandler::Impl {
 public:
  Impl(policy::PolicyStore& policies, controller::Capture& capture, AdmissionMetrics& metrics,
       Options options)
      : policies_(policies),
        capture_(capture),
        metrics_(metrics),
        options_(std::move(options)),
        guard_(net::make_work_guard(timers_)),
        timerThread_([this] { timers_.run(); }) {}

  ~Impl() {
    guard_.reset();
    timers_.stop();
    timerThread_.join();
  }

  void handle(HttpRequest& http, Respond respond) {
    auto started = Clock::now();
    policy::AdmissionRequest request;
    if (auto decoded = decodeAdmissionReview(http.body, request); !decoded.ok()) {
      return reject(respond, request, decoded.error().message);
    }
    if (!request.isPod()) return allowNow(respond, request, started, {});
    recordConnect(request);  // whatever policy may ask about this exec later
    if (request.operation == "DELETE" && request.subResource.empty() &&
        request.oldObjectJson.empty()) {
      return reject(respond, request, "request.oldObject is missing for a pod DELETE");
    }
    auto set = policies_.current();
    std::optional<policy::Labels> namespaceLabels;
    if (options_.namespaceLabels) namespaceLabels = options_.namespaceLabels(request.namespaceName);
    const policy::Labels* nsLabels = namespaceLabels ? &*namespaceLabels : nullptr;
    // Most requests match no trigger: answer them without reading the pod object at all.
    if (!rememberable(request) && !mayMatch(*set, request, nsLabels)) {
      return allowNow(respond, request, started, {});
    }
    auto pod = podOf(request);
    if (!pod.ok()) return reject(respond, request, pod.error().message);

    auto attributes = policy::admissionAttributesOf(request, pod->get(), nsLabels);
    auto firings = policy::admissionFirings(*set, request, attributes, options_.correlation,
                                            std::chrono::system_clock::now());
    std::vector<HeldCapture> held;
    std::vector<std::string> dryRunWarnings;
    for (const auto& firing : firings) {
      countMatch(firing);
      if (firing.effect == Effect::kCapture) {
        held.push_back({firing.policy, "", firing.policy->actions.snapshot->holdDeletion, {}});
      } else if (firing.effect == Effect::kDryRunCapture) {
        dryRunWarnings.push_back(dryRunWarning(firing.policy->name));
        toldWithoutCapture(firing, request, pod->get(), "dry run: nothing captured");
      } else if (firing.effect == Effect::kMatchOnly) {
        toldWithoutCapture(firing, request, pod->get(), "matched: this request cannot be captured");
      } else if (firing.effect == Effect::kActionsOnly) {
        // Labels, annotations or quarantine alone: done on the side, the answer does not wait.
        auto capture = policy::captureRequestFor(firing, request, pod->get(),
                                                 std::chrono::system_clock::now());
        auto deadline = Clock::now() + capture.holdDeletion;
        capture_.capture(std::move(capture), deadline, [](const controller::CaptureOutcome&) {});
      }
    }
    if (held.empty()) {
      return allowNow(respond, request, started, dryRunWarnings, !dryRunWarnings.empty());
    }
    hold(std::move(respond), std::move(request), pod->get(), std::move(firings), std::move(held),
         http.queryParameter("timeout"), started);
  }

 private:
  // An exec, attach or port-forward goes into the correlation window at once (see
  // Options::journal); a dry run changed nothing.
  void recordConnect(const policy::AdmissionRequest& request) {
    if (options_.journal == nullptr || request.operation != "CONNECT" || !request.canCapture() ||
        request.dryRun) {
      return;
    }
    options_.journal->append(policy::AuditJournal::Kind::kAdmissionEvent,
                             admissionAuditEvent(request, std::chrono::system_clock::now()),
                             [this, uid = request.uid](core::Status stored) {
                               if (stored.ok()) return metrics_.connectsRecorded.Increment();
                               core::log::warn("could not record an exec for correlation",
                                               {{"uid", uid}, {"error", stored.error().message}});
                             });
  }

  // Whether any policy could fire once the pod's labels are known.
  static bool mayMatch(const policy::PolicySet& set, const policy::AdmissionRequest& request,
                       const policy::Labels* namespaceLabels) {
    auto probe = policy::admissionAttributesOf(request, nullptr, namespaceLabels);
    probe.unknownPodLabelsMayMatch = true;
    return !set.matchAdmission(probe).empty();
  }

  // The pod the request carries (DELETE: oldObject; CREATE/UPDATE: object, remembered for the
  // evictions and execs that only name it), or one an earlier request showed; null if none did.
  core::Result<std::shared_ptr<const policy::PodRecord>> podOf(
      const policy::AdmissionRequest& request) {
    bool deletes = request.operation == "DELETE";
    if (!request.subResource.empty() || (!deletes && !rememberable(request))) {
      return capture_.findPod(request.namespaceName, request.name);
    }
    std::string_view json = deletes ? request.oldObjectJson : request.objectJson;
    auto parsed = policy::parsePod(json);
    if (!parsed.ok()) {
      return core::makeError(core::ErrorCode::kInvalidArgument,
                             std::string(deletes ? "request.oldObject " : "request.object ") +
                                 parsed.error().message);
    }
    auto pod = std::make_shared<policy::PodRecord>(std::move(parsed).value());
    if (pod->identity.namespaceName.empty()) pod->identity.namespaceName = request.namespaceName;
    if (pod->identity.name.empty()) pod->identity.name = request.name;
    pod->json = std::string(json);
    pod->source = "admission";
    if (!deletes && !pod->identity.name.empty()) capture_.rememberPod(*pod);
    return std::shared_ptr<const policy::PodRecord>(std::move(pod));
  }

  void toldWithoutCapture(const policy::Firing& firing, const policy::AdmissionRequest& request,
                          const policy::PodRecord* pod, std::string why) {
    if (!options_.onFiredWithoutCapture) return;
    options_.onFiredWithoutCapture(
        policy::captureRequestFor(firing, request, pod, std::chrono::system_clock::now()),
        std::move(why));
  }

  void countMatch(const policy::Firing& firing) {
    metrics_.policyMatches.Add({{"policy", firing.policy->name}, {"trigger", firing.triggerName}})
        .Increment();
    if (options_.onMatch) options_.onMatch(firing.policy->name, firing.effect == Effect::kCapture);
  }

  void count(const policy::AdmissionRequest& request, std::string_view decision, bool matched,
             Clock::time_point started) {
    using std::string_view;  // both arms views: a std::string arm would make a dangling temporary
    string_view operation = request.operation.empty() ? string_view("unknown") : request.operation;
    string_view resource = request.resource.empty() ? string_view("unknown") : request.resource;
    std::string withSubresource;
    if (!request.subResource.empty()) {
      withSubresource = std::string(resource) + "/" + request.subResource;
      resource = withSubresource;
    }
    metrics_.answered(operation, resource, decision, matched,
                      std::chrono::duration<double>(Clock::now() - started).count());
  }

  void reject(const Respond& respond, const policy::AdmissionRequest& request,
              const std::string& error) {
    count(request, "invalid", false, Clock::now());
    respond(jsonError(400, "invalid AdmissionReview: " + error));
  }

  void allowNow(const Respond& respond, const policy::AdmissionRequest& request,
                Clock::time_point started, const std::vector<std::string>& warnings,
                bool matched = false) {
    count(request, "allowed", matched, started);
    respond(admissionAnswer(request.uid, true, warnings, "", {}));
  }

  // How long the answer may be held: the policy's hold, but always inside the API server's own
  // deadline for this call (?timeout=), minus a margin for the answer to travel back.
  milliseconds holdLimit(std::string_view timeoutParameter) const {
    milliseconds limit = policy::kMaxHoldDeletion;
    if (auto timeout = core::parseDuration(timeoutParameter)) limit = std::min(limit, *timeout);
    milliseconds margin = std::max(options_.minimumMargin, limit / 10);
    return std::max(milliseconds(0), limit - margin);
  }

  void hold(Respond respond, policy::AdmissionRequest request, const policy::PodRecord* pod,
            std::vector<policy::Firing> firings, std::vector<HeldCapture> captures,
            std::string_view timeoutParameter, Clock::time_point started) {
    auto answer = std::make_shared<HeldAnswer>();
    answer->respond = std::move(respond);
    answer->started = started;
    answer->remaining = captures.size();
    answer->captures = std::move(captures);
    milliseconds limit = holdLimit(timeoutParameter);
    milliseconds longest{0};
    for (auto& capture : answer->captures) {
      capture.hold = std::min(capture.hold, limit);
      longest = std::max(longest, capture.hold);
    }
    answer->request = std::move(request);

    // Lock while starting, so that a capture finishing at once cannot answer before every
    // snapshot id is known.
    std::lock_guard lock(answer->mutex);
    answer->timer = std::make_unique<net::steady_timer>(timers_, started + longest);
    answer->timer->async_wait([this, answer](const boost::system::error_code& ec) {
      if (!ec) release(answer);
    });
    size_t index = 0;
    for (const auto& firing : firings) {
      if (firing.effect != Effect::kCapture) continue;
      auto& held = answer->captures[index];
      auto capture = policy::captureRequestFor(firing, answer->request, pod,
                                               std::chrono::system_clock::now());
      // Collectors stop a little before the answer must go, so that the bundle is sealed and
      // the answer can say what it holds rather than "still being captured".
      auto collectUntil = started + held.hold - std::clamp(held.hold / 10, milliseconds(50),
                                                           milliseconds(500));
      auto ticket = capture_.capture(
          std::move(capture), collectUntil,
          [this, answer, index](const controller::CaptureOutcome& outcome) {
            bool last = false;
            {
              std::lock_guard inner(answer->mutex);
              answer->captures[index].outcome = outcome;
              last = --answer->remaining == 0;
            }
            if (last) release(answer);
          });
      held.snapshotId = ticket.snapshotId;
      ++index;
    }
  }

  void release(const std::shared_ptr<HeldAnswer>& answer) {
    std::vector<std::string> warnings;
    std::string denial;
    std::string snapshots;
    {
      std::lock_guard lock(answer->mutex);
      if (answer->answered) return;
      answer->answered = true;
      for (const auto& capture : answer->captures) {
        const auto& policyName = capture.policy->name;
        // Another replica's snapshot when it captured this deletion (shared claims).
        const std::string& snapshotId =
            capture.outcome ? capture.outcome->snapshotId : capture.snapshotId;
        snapshots += (snapshots.empty() ? "" : ",") + policyName + "=" + snapshotId;
        if (capture.outcome && !capture.outcome->cutShort) {
          warnings.push_back(capture.outcome->warning);
          continue;
        }
        // The hold ran out: the bundle was sealed with what was in hand (or is still being
        // written), and the policy says whether the deletion may go on without the rest.
        auto onTimeout = capture.policy->actions.snapshot->onTimeout;
        metrics_.holdTimeouts.Add({{"on_timeout", std::string(policy::toString(onTimeout))}})
            .Increment();
        if (onTimeout == policy::OnTimeout::kDeny) {
          denial = holdTimeoutDenial(snapshotId, policyName, capture.hold);
        } else {
          warnings.push_back(capture.outcome ? capture.outcome->warning
                                             : holdTimeoutWarning(snapshotId, policyName));
        }
      }
    }
    if (answer->timer) {
      net::post(timers_, [answer] { answer->timer->cancel(); });
    }
    bool allowed = denial.empty();
    count(answer->request, allowed ? "allowed" : "denied", true, answer->started);
    answer->respond(admissionAnswer(answer->request.uid, allowed, warnings, denial,
                                    {{"evidence-snapshots", snapshots}}));
  }

  policy::PolicyStore& policies_;
  controller::Capture& capture_;
  AdmissionMetrics& metrics_;
  Options options_;
  net::io_context timers_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread timerThread_;
};

AdmissionHandler::AdmissionHandler(policy::PolicyStore& policies, controller::Capture& capture,
                                   AdmissionMetrics& metrics, Options options)
    : impl_(std::make_unique<Impl>(policies, capture, metrics, std::move(options))) {}

AdmissionHandler::~AdmissionHandler() = default;

void AdmissionHandler::handle(HttpRequest& request, Respond respond) {
  impl_->handle(request, std::move(respond));
}

}  // namespace podmortem::webhooks
