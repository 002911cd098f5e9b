#include "shared_captures.h"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "podmortem/core/log.h"
#include "podmortem/evidence/bundle.h"

namespace podmortem::controller {

namespace log = core::log;
using Clock = std::chrono::steady_clock;
using Verdict = policy::CaptureClaims::Verdict;

namespace {

constexpr auto kRememberFor = std::chrono::minutes(10);
constexpr size_t kRememberAtMost = 100'000;

std::string shortId(const std::string& id) { return id.substr(0, 12); }

CapturePhase phaseFromText(const std::string& phase) {
  if (phase == "Complete") return CapturePhase::kComplete;
  if (phase == "Partial") return CapturePhase::kPartial;
  return CapturePhase::kFailed;
}

std::string phaseText(CapturePhase phase) {
  switch (phase) {
    case CapturePhase::kComplete:
      return "Complete";
    case CapturePhase::kPartial:
      return "Partial";
    case CapturePhase::kFailed:
      return "Failed";
  }
  return "Failed";
}

// A follower whose hold ran out before the winner answered: the deletion is held no longer
// (the policy's onTimeout decides), and the answer names the winner's snapshot.
CaptureOutcome stillCapturing(const std::string& snapshotId, const std::string& policyName) {
  CaptureOutcome outcome;
  outcome.snapshotId = snapshotId;
  outcome.phase = CapturePhase::kPartial;
  outcome.cutShort = true;
  outcome.warning = "podmortem: evidence snapshot " + shortId(snapshotId) +
                    "… is being captured by another replica (policy " + policyName +
                    "); it was not sealed within the hold";
  return outcome;
}

}  // namespace

SharedCaptures::SharedCaptures(policy::CaptureClaims& claims, CaptureHere captureHere)
    : claims_(claims),
      captureHere_(std::move(captureHere)),
      captures_(kRememberFor, kRememberAtMost) {}

SharedCaptures::~SharedCaptures() { claimers_.join(); }

CaptureTicket SharedCaptures::capture(policy::CaptureRequest request, Clock::time_point deadline,
                                      CaptureCallback done) {
  const std::string key = request.key();
  auto joined = captures_.join(key, evidence::newSnapshotId, done);
  if (joined.finished) {
    boost::asio::post(claimers_, [outcome = std::move(joined.outcome), done = std::move(done)] {
      done(outcome);
    });
  }
  if (!joined.started) return {joined.id, true};
  boost::asio::post(claimers_, [this, key, id = joined.id, request = std::move(request),
                                deadline]() mutable {
    std::string policyName = request.policyName;
    try {
      decide(key, id, std::move(request), deadline);
    } catch (const std::exception& error) {
      // Callers are answered; the next call for the key tries again.
      log::error("capture could not start", {{"snapshot", id}, {"error", error.what()}});
      captures_.abandon(key, {id, CapturePhase::kFailed, false,
                              "podmortem: evidence capture " + shortId(id) +
                                  "… could not start (policy " + policyName +
                                  "); see the server log"});
    }
  });
  return {joined.id, false};
}

void SharedCaptures::decide(const std::string& key, const std::string& snapshotId,
                            policy::CaptureRequest request, Clock::time_point deadline) {
  // While the bucket elects a leader (a NATS server died) a claim gets no answer; waiting for
  // one is worth a third of the hold, at most 4 s: the capture needs the rest.
  const auto now = Clock::now();
  const auto tryUntil = now + std::min<Clock::duration>(std::chrono::seconds(4), (deadline - now) / 3);
  auto claim = claims_.claim(key, snapshotId, tryUntil);
  if (claim.verdict != Verdict::kLost) {
    return captureHere(key, std::move(request), deadline, snapshotId,
                       claim.verdict == Verdict::kWon);
  }
  log::info("another replica captures this deletion; following it",
            {{"snapshot", claim.snapshotId}, {"policy", request.policyName},
             {"namespace", request.pod.namespaceName}, {"pod", request.pod.name}});
  auto shared = std::make_shared<policy::CaptureRequest>(std::move(request));
  std::string takeOverId = evidence::newSnapshotId();
  claims_.follow(
      key, takeOverId, deadline,
      [this, key](const policy::CaptureClaims::Outcome& won) {
        captures_.finish(key, {won.snapshotId, phaseFromText(won.phase), won.cutShort, won.warning});
      },
      [this, key, shared, deadline, takeOverId] {
        captureHere(key, std::move(*shared), deadline, takeOverId, true);
      },
      [this, key, winner = claim.snapshotId, policyName = shared->policyName] {
        captures_.finish(key, stillCapturing(winner, policyName));
      });
}

void SharedCaptures::captureHere(const std::string& key, policy::CaptureRequest request,
                                 Clock::time_point deadline, std::string snapshotId, bool publish) {
  captureHere_(std::move(request), deadline, std::move(snapshotId),
               [this, key, publish](const CaptureOutcome& outcome) {
                 if (publish) {
                   claims_.release(key, {outcome.snapshotId, phaseText(outcome.phase),
                                         outcome.cutShort, outcome.warning});
                 }
                 captures_.finish(key, outcome);
               });
}

}  // namespace podmortem::controller
