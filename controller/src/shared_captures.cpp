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
    : claims_(claims), captureHere_(std::move(captureHere)) {}

SharedCaptures::~SharedCaptures() { claimers_.join(); }

CaptureTicket SharedCaptures::capture(policy::CaptureRequest request, Clock::time_point deadline,
                                      CaptureCallback done) {
  const std::string key = request.key();
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    forgetOld();
    if (auto it = entries_.find(key); it != entries_.end()) {
      entry = it->second;
      if (!entry->done) {
        entry->waiters.push_back(std::move(done));
        return {entry->snapshotId, true};
      }
    } else {
      entry = std::make_shared<Entry>();
      entry->key = key;
      entry->snapshotId = evidence::newSnapshotId();
      entry->waiters.push_back(std::move(done));
      entries_.emplace(key, entry);
    }
  }
  if (entry->done) {
    boost::asio::post(claimers_, [entry, done = std::move(done)] { done(entry->outcome); });
    return {entry->snapshotId, true};
  }
  std::string id = entry->snapshotId;
  boost::asio::post(claimers_, [this, key, entry, request = std::move(request), deadline]() mutable {
    decide(key, entry, std::move(request), deadline);
  });
  return {id, false};
}

void SharedCaptures::decide(const std::string& key, const std::shared_ptr<Entry>& entry,
                            policy::CaptureRequest request, Clock::time_point deadline) {
  // While the bucket elects a leader (a NATS server died) a claim gets no answer; waiting for
  // one is worth a third of the hold, at most 4 s: the capture needs the rest.
  const auto now = Clock::now();
  const auto tryUntil = now + std::min<Clock::duration>(std::chrono::seconds(4), (deadline - now) / 3);
  auto claim = claims_.claim(key, entry->snapshotId, tryUntil);
  if (claim.verdict != Verdict::kLost) {
    return captureHere(key, entry, std::move(request), deadline, entry->snapshotId,
                       claim.verdict == Verdict::kWon);
  }
  log::info("another replica captures this deletion; following it",
            {{"snapshot", claim.snapshotId}, {"policy", request.policyName},
             {"namespace", request.pod.namespaceName}, {"pod", request.pod.name}});
  auto shared = std::make_shared<policy::CaptureRequest>(std::move(request));
  std::string takeOverId = evidence::newSnapshotId();
  claims_.follow(
      key, takeOverId, deadline,
      [this, entry](const policy::CaptureClaims::Outcome& won) {
        finish(entry, {won.snapshotId, phaseFromText(won.phase), won.cutShort, won.warning});
      },
      [this, key, entry, shared, deadline, takeOverId] {
        captureHere(key, entry, std::move(*shared), deadline, takeOverId, true);
      },
      [this, entry, winner = claim.snapshotId, policyName = shared->policyName] {
        finish(entry, stillCapturing(winner, policyName));
      });
}

void SharedCaptures::captureHere(const std::string& key, const std::shared_ptr<Entry>& entry,
                                 policy::CaptureRequest request, Clock::time_point deadline,
                                 std::string snapshotId, bool publish) {
  captureHere_(std::move(request), deadline, std::move(snapshotId),
               [this, key, entry, publish](const CaptureOutcome& outcome) {
                 if (publish) {
                   claims_.release(key, {outcome.snapshotId, phaseText(outcome.phase),
                                         outcome.cutShort, outcome.warning});
                 }
                 finish(entry, outcome);
               });
}

void SharedCaptures::finish(const std::shared_ptr<Entry>& entry, const CaptureOutcome& outcome) {
  std::vector<CaptureCallback> waiters;
  {
    std::lock_guard lock(mutex_);
    if (entry->done) return;
    entry->done = true;
    entry->outcome = outcome;
    waiters.swap(entry->waiters);
    finished_.emplace_back(Clock::now(), entry->key);
  }
  for (auto& waiter : waiters) waiter(outcome);
}

void SharedCaptures::forgetOld() {
  auto horizon = Clock::now() - kRememberFor;
  while (!finished_.empty() &&
         (finished_.front().first < horizon || entries_.size() > kRememberAtMost)) {
    entries_.erase(finished_.front().second);
    finished_.pop_front();
  }
}

}  // namespace podmortem::controller
