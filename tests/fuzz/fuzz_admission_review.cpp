// Bytes as the body of POST /validate: AdmissionReview decoding, the pod parser, matching and
// the held-answer logic. The answer must be 200 or 400, exactly once.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>

#include "podmortem/policy/parser.h"
#include "podmortem/policy/policy_store.h"
#include "podmortem/webhooks/admission_handler.h"

namespace {

using namespace podmortem;

constexpr const char* kPolicies = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: everything}
spec:
  triggers:
    - {source: admission, operations: [DELETE, CREATE, CONNECT], resources: [pods, pods/*]}
  actions: {snapshot: {holdDeletion: 5s}, labels: {podmortem.io/suspect: "true"}}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: selected}
spec:
  match: {podSelector: {matchExpressions: [{key: app, operator: In, values: [web, db]}]}}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods], users: {exclude: ["system:*"]}}
  correlation: {window: 10m, requireAudit: [{verbs: [create], resources: [pods/exec]}]}
  actions: {snapshot: {onTimeout: deny}}
)";

// Captures that finish as soon as the input is handled, on the fuzzer's thread (never inside
// handle(), as the interface promises).
class InstantCapture final : public controller::Capture {
 public:
  controller::CaptureTicket capture(policy::CaptureRequest request,
                                    std::chrono::steady_clock::time_point,
                                    controller::CaptureCallback done) override {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(done));
    return {request.key(), false};
  }
  std::shared_ptr<const policy::PodRecord> findPod(std::string_view ns,
                                                   std::string_view name) const override {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(std::string(ns) + "/" + std::string(name));
    return it == pods_.end() ? nullptr : it->second;
  }
  void rememberPod(policy::PodRecord pod) override {
    std::lock_guard lock(mutex_);
    if (pods_.size() > 100) pods_.clear();
    pods_[pod.identity.key()] = std::make_shared<policy::PodRecord>(std::move(pod));
  }
  void finishAll() {
    std::vector<controller::CaptureCallback> pending;
    {
      std::lock_guard lock(mutex_);
      pending.swap(pending_);
    }
    for (auto& done : pending) {
      done({"0123456789abcdef0123456789abcdef", controller::CapturePhase::kComplete, false,
            "captured"});
    }
  }

 private:
  mutable std::mutex mutex_;
  std::vector<controller::CaptureCallback> pending_;
  std::map<std::string, std::shared_ptr<const policy::PodRecord>> pods_;
};

struct Fixture {
  prometheus::Registry registry;
  webhooks::AdmissionMetrics metrics{registry};
  policy::PolicyStore policies;
  policy::CorrelationWindow window{{}};
  InstantCapture capture;
  std::unique_ptr<webhooks::AdmissionHandler> handler;

  Fixture() {
    policies.replace(policy::parsePolicyDocuments(kPolicies, "fuzz.yaml"));
    webhooks::AdmissionHandler::Options options;
    options.correlation = &window;
    handler = std::make_unique<webhooks::AdmissionHandler>(policies, capture, metrics, options);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  webhooks::HttpRequest request;
  request.method = "POST";
  request.path = "/validate";
  request.query = "timeout=10s";
  request.body.reserve(size + 64);  // the HTTP server leaves simdjson's padding
  request.body.assign(reinterpret_cast<const char*>(data), size);
  std::mutex mutex;
  std::vector<unsigned> answers;
  fixture.handler->handle(request, [&](webhooks::HttpResponse response) {
    std::lock_guard lock(mutex);
    answers.push_back(response.status);
  });
  fixture.capture.finishAll();
  std::lock_guard lock(mutex);
  if (answers.size() != 1 || (answers[0] != 200 && answers[0] != 400)) std::abort();
  return 0;
}
